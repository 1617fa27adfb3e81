"""rapidpro #640: STOP stopped working after a refactor. STOP by keyword and by 21610 are pinned here."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from bot.services import Services
from bot.settings import Settings
from storage.models import MessageStatus
from tests.conftest import PATIENT, post_signed, sms_params
from tests.fakes.twilio_api import FakeTwilio, Unsubscribed
from tests.integration.helpers import opted_out, outbound, settle


async def test_stop_keyword_then_nothing_but_the_confirmation_is_sent(
    client: TestClient[Any, Any], settings: Settings, services: Services, fake_twilio: FakeTwilio
) -> None:
    await post_signed(client, settings, "/twilio/sms", sms_params("STOP"))
    await settle(services)
    await post_signed(client, settings, "/twilio/sms", sms_params("hello?"))
    await settle(services)
    assert await opted_out(services, PATIENT)
    assert len(fake_twilio.messages_sent) == 1


async def test_21610_at_send_time_opts_the_number_out(
    client: TestClient[Any, Any], settings: Settings, services: Services, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.script_messages(Unsubscribed())
    await post_signed(client, settings, "/twilio/sms", sms_params("hello?"))
    await settle(services)
    assert await opted_out(services, PATIENT)
    (reply,) = await outbound(services)
    assert (reply.status, reply.error_code) == (MessageStatus.FAILED, 21610)

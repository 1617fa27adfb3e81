"""Never log a message body or a full phone number: the webhook, processing and sending all stay masked."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.services import Services
from bot.settings import Settings
from tests.conftest import PATIENT, post_signed, sms_params
from tests.fakes.twilio_api import FakeTwilio, Http429
from tests.integration.helpers import settle


async def test_logs_carry_no_body_and_no_full_phone_number(
    client: TestClient[Any, Any],
    settings: Settings,
    services: Services,
    fake_twilio: FakeTwilio,
    capsys: pytest.CaptureFixture[str],
) -> None:
    secret = "my temp is 101.9 and I have chills, Maria Lopez DOB 1961"
    fake_twilio.script_messages(Http429())
    await post_signed(client, settings, "/twilio/sms", sms_params(secret))
    await post_signed(client, settings, "/twilio/sms", sms_params("STOP"))
    bad = sms_params(secret)
    del bad["MessageSid"]
    await post_signed(client, settings, "/twilio/sms", bad)
    await settle(services)
    captured = capsys.readouterr()
    logs = captured.out + captured.err
    assert logs, "expected some log output"
    assert PATIENT not in logs
    assert PATIENT[2:] not in logs
    for fragment in ("101.9", "chills", "Maria", "Lopez", "1961"):
        assert fragment not in logs

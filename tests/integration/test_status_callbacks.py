"""Delivery status: forward-only, deduplicated on (SID, status), right end state whatever the order."""

from __future__ import annotations

import random
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from bot.services import Services
from bot.settings import Settings
from storage.models import Message, MessageStatusEvent
from tests.conftest import PATIENT, post_signed, sms_params
from tests.fakes.twilio_api import FakeTwilio
from tests.integration.helpers import outbound, settle


async def _one_sent(client: TestClient[Any, Any], settings: Settings, services: Services, fake: FakeTwilio) -> str:
    resp = await post_signed(client, settings, "/twilio/sms", sms_params("hello there"))
    assert resp.status == 200
    await settle(services)
    (sent,) = await fake.wait_for_messages(1)
    return sent.sid


async def _status_of(services: Services, sid: str) -> tuple[str, int | None]:
    async with services.sessions() as session:
        msg = (await session.execute(select(Message).where(Message.external_sid == sid))).scalar_one()
        return msg.status, msg.error_code


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_shuffled_callbacks_end_as_delivered(
    client: TestClient[Any, Any], settings: Settings, services: Services, fake_twilio: FakeTwilio, seed: int
) -> None:
    sid = await _one_sent(client, settings, services, fake_twilio)
    callbacks = fake_twilio.status_callbacks_for(sid, ["queued", "sending", "sent", "delivered"])
    random.Random(seed).shuffle(callbacks)
    for params in callbacks:
        resp = await post_signed(client, settings, "/twilio/sms/status", params)
        assert resp.status in (200, 204)
    assert await _status_of(services, sid) == ("delivered", None)


async def test_shuffled_callbacks_of_a_failure_end_as_failed_with_its_code(
    client: TestClient[Any, Any], settings: Settings, services: Services, fake_twilio: FakeTwilio
) -> None:
    sid = await _one_sent(client, settings, services, fake_twilio)
    callbacks = fake_twilio.status_callbacks_for(sid, ["failed", "sent", "queued", "sending"], error_code=30003)
    for params in callbacks:
        await post_signed(client, settings, "/twilio/sms/status", params)
    assert await _status_of(services, sid) == ("failed", 30003)


async def test_a_late_delivered_does_not_overwrite_undelivered(
    client: TestClient[Any, Any], settings: Settings, services: Services, fake_twilio: FakeTwilio
) -> None:
    sid = await _one_sent(client, settings, services, fake_twilio)
    for params in fake_twilio.status_callbacks_for(sid, ["undelivered"], error_code=30006):
        await post_signed(client, settings, "/twilio/sms/status", params)
    for params in fake_twilio.status_callbacks_for(sid, ["delivered", "read"]):
        await post_signed(client, settings, "/twilio/sms/status", params)
    assert await _status_of(services, sid) == ("undelivered", 30006)


async def test_read_after_delivered_moves_forward(
    client: TestClient[Any, Any], settings: Settings, services: Services, fake_twilio: FakeTwilio
) -> None:
    sid = await _one_sent(client, settings, services, fake_twilio)
    for params in fake_twilio.status_callbacks_for(sid, ["read", "delivered"]):
        await post_signed(client, settings, "/twilio/sms/status", params)
    assert await _status_of(services, sid) == ("read", None)


async def test_duplicate_callbacks_are_stored_once(
    client: TestClient[Any, Any], settings: Settings, services: Services, fake_twilio: FakeTwilio
) -> None:
    sid = await _one_sent(client, settings, services, fake_twilio)
    (params,) = fake_twilio.status_callbacks_for(sid, ["delivered"])
    for _ in range(3):
        resp = await post_signed(client, settings, "/twilio/sms/status", params)
        assert resp.status in (200, 204)
    async with services.sessions() as session:
        count = (
            await session.execute(
                select(func.count()).select_from(MessageStatusEvent).where(MessageStatusEvent.sid == sid)
            )
        ).scalar_one()
    assert count == 1


async def test_a_callback_that_arrives_before_the_sid_is_stored_is_applied_later(
    client: TestClient[Any, Any], settings: Settings, services: Services, fake_twilio: FakeTwilio
) -> None:
    """Twilio may call back before Messages.create has answered us: the event waits for its SID."""
    early_sid = "SM" + "e" * 32
    params = {
        "MessageSid": early_sid,
        "MessageStatus": "delivered",
        "AccountSid": fake_twilio.account_sid,
        "To": PATIENT,
    }
    resp = await post_signed(client, settings, "/twilio/sms/status", params)
    assert resp.status in (200, 204)
    from bot.outbound import _record_sent
    from storage.models import MessageStatus

    await post_signed(client, settings, "/twilio/sms", sms_params("hi"))
    await settle(services)
    (reply,) = await outbound(services)
    async with services.sessions() as session, session.begin():
        row = await session.get(Message, reply.id)
        assert row is not None
        row.status, row.external_sid = MessageStatus.SENDING_REQUEST, None
    await _record_sent(services, reply.id, early_sid, "queued", 1)
    assert await _status_of(services, early_sid) == ("delivered", None)


async def test_status_callback_needs_a_valid_signature_and_fields(
    client: TestClient[Any, Any], settings: Settings, services: Services
) -> None:
    resp = await client.post("/twilio/sms/status", data={"MessageSid": "SM1", "MessageStatus": "delivered"})
    assert resp.status == 403
    resp = await post_signed(client, settings, "/twilio/sms/status", {"MessageSid": "SM1"})
    assert resp.status == 400
    assert "MessageStatus" in await resp.text()

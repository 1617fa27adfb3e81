"""The outbox against the fake Twilio API: retries, opt-out on 21610, timeouts reconciled, TTL, segments."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.outbound import queue_text, send_message
from bot.services import Services
from bot.settings import Settings
from storage import repo
from storage.models import Message, MessageStatus
from tests.conftest import PATIENT, SMS_FROM
from tests.fakes.twilio_api import FakeTwilio, Hang, Http429, Http500, Unsubscribed
from tests.integration.helpers import opted_out, outbound, settle


async def _queue(
    services: Services, body: str = "Reminder: lab draw tomorrow at 9:00.", *, enqueue: bool = True, **kw: Any
) -> int:
    now = services.now()
    async with services.sessions() as session, session.begin():
        conversation_id = await repo.conversation_for(session, kw.pop("to", PATIENT), now)
        conv_phone = (await session.execute(repo.select_conversation_phone(conversation_id))).scalar_one()
        msg = await queue_text(
            session,
            services,
            conversation_id=conversation_id,
            patient_id=None,
            to=conv_phone,
            body=body,
            kind=kw.pop("kind", "reminder"),
            now=now,
            **kw,
        )
    if enqueue:
        await services.queue.enqueue("send_message", msg.id)
    return msg.id


async def _get(services: Services, message_id: int) -> Message:
    async with services.sessions() as session:
        msg = await session.get(Message, message_id)
        assert msg is not None
        return msg


async def test_a_text_is_sent_once_with_a_status_callback(
    client: TestClient[Any, Any], services: Services, fake_twilio: FakeTwilio, settings: Settings
) -> None:
    message_id = await _queue(services)
    await settle(services)
    (sent,) = fake_twilio.messages_sent
    assert (sent.to, sent.from_, sent.body) == (PATIENT, SMS_FROM, "Reminder: lab draw tomorrow at 9:00.")
    assert sent.status_callback == f"{settings.public_url}/twilio/sms/status"
    assert sent.validity_period is not None
    assert 0 < sent.validity_period <= settings.sms_ttl_s
    msg = await _get(services, message_id)
    assert msg.external_sid == sent.sid
    assert msg.status == MessageStatus.QUEUED
    # Running the job again (arq may) sends nothing more.
    await send_message(services, message_id)
    assert len(fake_twilio.messages_sent) == 1


async def test_429_then_201_sends_one_message(
    client: TestClient[Any, Any], services: Services, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.script_messages(Http429(), Http500())
    message_id = await _queue(services)
    await fake_twilio.wait_for_messages(1)
    await settle(services)
    assert len(fake_twilio.create_requests("Messages")) == 3
    assert len(fake_twilio.messages_sent) == 1
    msg = await _get(services, message_id)
    assert msg.status == MessageStatus.QUEUED
    assert msg.attempts == 3


async def test_retries_stop_after_max_attempts_and_the_failure_is_kept(
    client: TestClient[Any, Any], services: Services, fake_twilio: FakeTwilio, settings: Settings
) -> None:
    fake_twilio.script_messages(*[Http500() for _ in range(settings.send_max_attempts)])
    message_id = await _queue(services)
    await settle(services)
    msg = await _get(services, message_id)
    assert msg.status == MessageStatus.FAILED
    assert msg.error_code == 20500
    assert fake_twilio.messages_sent == []


async def test_21610_on_send_records_an_opt_out_and_is_not_retried(
    client: TestClient[Any, Any], services: Services, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.script_messages(Unsubscribed())
    message_id = await _queue(services)
    await settle(services)
    msg = await _get(services, message_id)
    assert (msg.status, msg.error_code) == (MessageStatus.FAILED, 21610)
    assert await opted_out(services, PATIENT)
    assert len(fake_twilio.create_requests("Messages")) == 1
    # The next text to that number is suppressed by our own list, never sent.
    second = await _queue(services, "Another reminder")
    await settle(services)
    assert (await _get(services, second)).status == MessageStatus.SUPPRESSED
    assert len(fake_twilio.create_requests("Messages")) == 1


async def test_a_timeout_where_twilio_did_create_the_message_is_reconciled_not_resent(
    client: TestClient[Any, Any], services: Services, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.script_messages(Hang(5.0, created=True))
    message_id = await _queue(services)
    await settle(services)
    assert len(fake_twilio.create_requests("Messages")) == 1
    (sent,) = fake_twilio.messages_sent
    msg = await _get(services, message_id)
    assert msg.external_sid == sent.sid
    assert msg.status not in (MessageStatus.UNKNOWN, MessageStatus.PENDING, MessageStatus.SENDING_REQUEST)


async def test_a_timeout_where_nothing_was_created_is_sent_again_after_reconciling(
    client: TestClient[Any, Any], services: Services, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.script_messages(Hang(5.0, created=False))
    message_id = await _queue(services)
    await settle(services)
    assert len(fake_twilio.create_requests("Messages")) == 2
    (sent,) = fake_twilio.messages_sent
    assert (await _get(services, message_id)).external_sid == sent.sid


async def test_a_text_past_its_time_to_live_is_dropped_not_sent_late(
    client: TestClient[Any, Any], services: Services, fake_twilio: FakeTwilio
) -> None:
    on_time = await _queue(services, ttl_s=60)
    late = await _queue(services, "late reminder", ttl_s=60, enqueue=False)
    await settle(services)
    start = services.now()
    services.clock = lambda: start + timedelta(seconds=61)  # a worker back after a long outage
    await send_message(services, late)
    assert (await _get(services, late)).status == MessageStatus.EXPIRED
    assert [m.body for m in fake_twilio.messages_sent] == ["Reminder: lab draw tomorrow at 9:00."]
    assert (await _get(services, on_time)).status == MessageStatus.QUEUED


@pytest.mark.parametrize(
    ("body", "segments", "encoding"),
    [
        ("a" * 160, 1, "GSM-7"),
        ("a" * 161, 2, "GSM-7"),
        ("Su cita es mañana a las 9:00. ¿Confirma? Responda 1.", 1, "GSM-7"),
        ("Responda 1 para sí", 1, "UCS-2"),  # í is not in GSM-7 (only ì is)
        ("Recordatorio: análisis de sangre mañana " + "ó" * 40, 2, "UCS-2"),
        ("emoji 😀 " * 10, 2, "UCS-2"),
    ],
)
async def test_segments_are_counted_gsm7_or_ucs2(
    client: TestClient[Any, Any], services: Services, body: str, segments: int, encoding: str
) -> None:
    message_id = await _queue(services, body)
    await settle(services)
    msg = await _get(services, message_id)
    assert (msg.num_segments, msg.encoding) == (segments, encoding)


async def test_rate_limit_spaces_sends_by_segments_per_second(
    aiohttp_client: Any, settings: Settings, fake_twilio: FakeTwilio
) -> None:
    from bot.app import create_app
    from bot.keys import SERVICES

    limited = settings.model_copy(update={"sms_segments_per_second": 20.0, "sms_burst_s": 0.0})
    client = await aiohttp_client(create_app(limited))
    services: Services = client.app[SERVICES]
    for i in range(3):
        await _queue(services, f"{i} " + "x" * 400)  # 3 segments each: 9 segments at 20/s
    await settle(services)
    times = sorted(r.received_monotonic for r in fake_twilio.create_requests("Messages"))
    assert len(times) == 3, times
    assert times[-1] - times[0] >= 0.25
    assert all(m.status == MessageStatus.QUEUED for m in await outbound(services))

"""Nurses answer pages by SMS: 42A, 42 a, A alone, 42C (with a note), 42E, and get help for anything else."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient

from bot.keys import SERVICES
from bot.services import Services
from bot.settings import Settings
from storage.paging import EscalationStatus
from tests.conftest import PATIENT, post_signed, sms_params
from tests.fakes.twilio_api import FakeTwilio
from tests.integration.paging.helpers import (
    DOCTOR,
    NURSE_1,
    NURSE_2,
    URGENT_TEXT,
    escalations,
    events,
    seed_oncall,
    steps,
)

OTHER_PATIENT = "+15555550177"


def _to(fake: FakeTwilio, phone: str) -> list[str]:
    return [m.body for m in fake.messages_sent if m.to == phone]


async def _text(client: TestClient[Any, Any], settings: Settings, body: str, sender: str = PATIENT) -> None:
    resp = await post_signed(client, settings, "/twilio/sms", sms_params(body, sender=sender))
    assert resp.status == 200


async def _next_to(fake: FakeTwilio, phone: str, n: int) -> str:
    async with asyncio.timeout(5):
        while len(_to(fake, phone)) < n:
            await fake.wait_for_messages(len(fake.messages_sent) + 1)
    return _to(fake, phone)[n - 1]


async def _paged(client: TestClient[Any, Any], settings: Settings, fake: FakeTwilio, patient: str, n: int) -> int:
    await _text(client, settings, URGENT_TEXT, sender=patient)
    await _next_to(fake, NURSE_1, n)
    return max(e.id for e in await escalations(client.app[SERVICES]))


async def test_a_nurse_acking_an_escalation_not_paged_to_them_gets_a_clear_answer(
    client: TestClient[Any, Any], settings: Settings, services: Services, fake_twilio: FakeTwilio
) -> None:
    await seed_oncall(services, steps((60, "1", "sms")))
    esc_id = await _paged(client, settings, fake_twilio, PATIENT, 1)
    await _text(client, settings, f"{esc_id}A", sender=NURSE_2)
    reply = await _next_to(fake_twilio, NURSE_2, 1)
    assert reply == f"Careline: #{esc_id} is not assigned to you, so nothing changed."
    (esc,) = await escalations(services)
    assert esc.status == EscalationStatus.OPEN
    # Taken by the paged nurse; then a late ack from someone else hears who has it.
    await _text(client, settings, f"{esc_id}A", sender=NURSE_1)
    assert "is yours" in await _next_to(fake_twilio, NURSE_1, 2)
    await _text(client, settings, f"{esc_id} a", sender=DOCTOR)
    assert await _next_to(fake_twilio, DOCTOR, 1) == (
        f"Careline: #{esc_id} was already taken by another nurse (Nurse One). No action needed."
    )
    await _text(client, settings, "99A", sender=NURSE_1)
    assert "no open page #99" in await _next_to(fake_twilio, NURSE_1, 3)


async def test_bare_a_takes_the_only_open_page_and_lists_several(
    client: TestClient[Any, Any], settings: Settings, services: Services, fake_twilio: FakeTwilio
) -> None:
    await seed_oncall(services, steps((60, "1", "sms")))
    await _text(client, settings, "A", sender=NURSE_1)
    assert "no open pages" in await _next_to(fake_twilio, NURSE_1, 1)
    first = await _paged(client, settings, fake_twilio, PATIENT, 2)
    second = await _paged(client, settings, fake_twilio, OTHER_PATIENT, 3)
    await _text(client, settings, "a", sender=NURSE_1)
    which = await _next_to(fake_twilio, NURSE_1, 4)
    assert which == f"Careline: you have 2 open pages: #{first}, #{second}. Reply with the number, e.g. {first}A."
    await _text(client, settings, f"{second}A", sender=NURSE_1)
    await _next_to(fake_twilio, NURSE_1, 5)
    await _text(client, settings, "ACK", sender=NURSE_1)
    assert f"#{first} is yours" in await _next_to(fake_twilio, NURSE_1, 6)


async def test_unrecognised_reply_gets_help_and_close_takes_a_note(
    client: TestClient[Any, Any], settings: Settings, services: Services, fake_twilio: FakeTwilio
) -> None:
    await seed_oncall(services, steps((60, "1", "sms")))
    esc_id = await _paged(client, settings, fake_twilio, PATIENT, 1)
    await _text(client, settings, "who is this?", sender=NURSE_1)
    assert "reply 42A to take page #42" in await _next_to(fake_twilio, NURSE_1, 2)
    await _text(client, settings, f"{esc_id}C", sender=NURSE_1)
    closed = await _next_to(fake_twilio, NURSE_1, 3)
    assert closed.startswith(f"Careline: #{esc_id} closed. Thank you.")
    assert "note" in closed
    assert len(closed) <= 160
    await _text(client, settings, "called back, advised ER visit", sender=NURSE_1)
    assert await _next_to(fake_twilio, NURSE_1, 4) == f"Careline: note added to #{esc_id}."
    (esc,) = await escalations(services)
    assert esc.status == EscalationStatus.RESOLVED
    assert esc.open_key is None
    assert esc.resolution_note == "called back, advised ER visit"
    assert (await events(services, esc.id))[-2:] == ["resolve", "note"]
    # A new urgent text after the close opens a new escalation (one open per patient per queue).
    await _text(client, settings, URGENT_TEXT)
    await _next_to(fake_twilio, NURSE_1, 5)
    assert [e.status for e in await escalations(services)] == [EscalationStatus.RESOLVED, EscalationStatus.OPEN]


async def test_escalate_code_pages_the_next_step_now(
    client: TestClient[Any, Any], settings: Settings, services: Services, fake_twilio: FakeTwilio
) -> None:
    await seed_oncall(services, steps((60, "1", "sms"), (60, "2", "sms")))
    esc_id = await _paged(client, settings, fake_twilio, PATIENT, 1)
    await _text(client, settings, f"{esc_id}E", sender=NURSE_1)
    assert "escalated" in await _next_to(fake_twilio, NURSE_1, 2)
    assert "URGENT" in await _next_to(fake_twilio, NURSE_2, 1)
    (esc,) = await escalations(services)
    assert (esc.step_index, esc.status) == (1, EscalationStatus.OPEN)

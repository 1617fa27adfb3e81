"""An urgent text pages the on-call nurse, escalates without an ack, and stops for good once acknowledged."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from typing import Any

from aiohttp.test_utils import TestClient

from bot.services import Services
from bot.settings import Settings
from storage.models import MessageStatus
from storage.paging import EscalationStatus, StepStatus
from tests.conftest import PATIENT, post_signed, sms_params
from tests.fakes.twilio_api import FakeTwilio
from tests.integration.paging.helpers import (
    DOCTOR,
    EMERGENCY_TEXT,
    FALLBACK,
    NURSE_1,
    NURSE_2,
    URGENT_TEXT,
    add_patient,
    escalations,
    events,
    outbound_to,
    pages,
    seed_oncall,
    settle_all,
    settle_for,
    steps,
)


def _to(fake: FakeTwilio, phone: str) -> list[str]:
    return [m.body for m in fake.messages_sent if m.to == phone]


async def _text(client: TestClient[Any, Any], settings: Settings, body: str, sender: str = PATIENT) -> None:
    resp = await post_signed(client, settings, "/twilio/sms", sms_params(body, sender=sender))
    assert resp.status == 200


async def _wait_for_to(fake: FakeTwilio, phone: str, n: int, within_s: float = 5.0) -> list[str]:
    async with asyncio.timeout(within_s):
        while len(_to(fake, phone)) < n:
            await fake.wait_for_messages(len(fake.messages_sent) + 1, timeout=within_s)
    return _to(fake, phone)


async def test_urgent_text_pages_tier_1_then_tier_2_then_alerts_the_fallback(
    client: TestClient[Any, Any], settings: Settings, services: Services, fake_twilio: FakeTwilio
) -> None:
    await seed_oncall(services, steps((1, "1", "sms"), (1, "2", "sms")))
    await add_patient(services, PATIENT)
    await _text(client, settings, URGENT_TEXT)
    (page,) = await _wait_for_to(fake_twilio, NURSE_1, 1)
    (esc,) = await escalations(services)
    assert page.startswith(f"Careline (Riverside Oncology) URGENT #{esc.id}: patient callback needed. Reply {esc.id}A")
    for phi in ("101", "chills", "Ana"):  # no PHI in a page
        assert phi not in page
    (patient_reply,) = await _wait_for_to(fake_twilio, PATIENT, 1)
    assert "A nurse has been paged and will call you within 30 minutes" in patient_reply
    # No ack: tier 2 after the first step's delay, then the fallback alert after the second's.
    await _wait_for_to(fake_twilio, NURSE_2, 1)
    (alert,) = await _wait_for_to(fake_twilio, FALLBACK, 1)
    assert f"#{esc.id}" in alert
    assert "no one acknowledged" in alert
    await settle_all(services)
    (esc,) = await escalations(services)
    assert esc.status == EscalationStatus.OPEN
    assert esc.exhausted_at is not None
    assert esc.first_page_at is not None
    assert _to(fake_twilio, DOCTOR) == []
    assert await events(services, esc.id) == ["opened", "message", "triage", "page", "page", "exhausted"]
    assert len(_to(fake_twilio, NURSE_1)) == 1  # each step fired once


async def test_sms_ack_stops_every_further_page(
    client: TestClient[Any, Any], settings: Settings, services: Services, fake_twilio: FakeTwilio
) -> None:
    await seed_oncall(services, steps((1, "1", "sms"), (1, "2", "sms")), repeat=2)
    await _text(client, settings, URGENT_TEXT)
    (page,) = await _wait_for_to(fake_twilio, NURSE_1, 1)
    (esc,) = await escalations(services)
    await _text(client, settings, f"{esc.id} a", sender=NURSE_1)
    first, reply = await _wait_for_to(fake_twilio, NURSE_1, 2)
    assert first == page
    assert reply == f"Careline: #{esc.id} is yours; paging stopped. Reply {esc.id}C to close it when done."
    await asyncio.sleep(2.5)  # past every step's delay (grafana/oncall #4654: no page after ack)
    await settle_all(services)
    assert _to(fake_twilio, NURSE_2) == []
    assert _to(fake_twilio, FALLBACK) == []
    (esc,) = await escalations(services)
    assert esc.status == EscalationStatus.ACKED
    assert esc.acked_at is not None
    assert await events(services, esc.id) == ["opened", "message", "triage", "page", "ack"]


async def test_ack_cancels_a_page_sms_not_yet_sent(
    client: TestClient[Any, Any], settings: Settings, services: Services, fake_twilio: FakeTwilio
) -> None:
    from bot.paging import acknowledge

    await seed_oncall(services, steps((60, "1", "sms")))
    from bot.paging import route_to_queue
    from storage import repo

    now = services.now()
    async with services.sessions() as session, session.begin():
        conv = await repo.conversation_for(session, PATIENT, now)
        routed = await route_to_queue(
            session, services, conversation_id=conv, patient_id=None, queue="triage", level="urgent", now=now
        )
        # Acknowledged in the same breath, before the page's send job ran.
        await acknowledge(session, routed.escalation_id, actor="test", staff_id=None, now=now, via="api")
    await settle_for(services)
    assert fake_twilio.messages_sent == []
    (sms,) = await outbound_to(services, NURSE_1)
    assert sms.status == MessageStatus.CANCELED


async def test_keypress_ack_on_a_voice_page_stops_paging(
    client: TestClient[Any, Any], settings: Settings, services: Services, fake_twilio: FakeTwilio
) -> None:
    await seed_oncall(services, steps((1, "1", "voice"), (1, "2", "sms")))
    await _text(client, settings, URGENT_TEXT)
    (call,) = await fake_twilio.wait_for_calls(1)
    assert call.to == NURSE_1
    (page,) = [p for p in await pages(services) if p.channel == "voice"]
    assert call.url == f"{settings.public_url}/twilio/voice/page/{page.id}"
    # Twilio fetches the TwiML: a <Gather> saying the page, then a <Redirect> when no key is pressed.
    path = f"/twilio/voice/page/{page.id}"
    form = {
        "CallSid": call.sid,
        "From": call.from_,
        "To": call.to,
        "CallStatus": "in-progress",
        "Direction": "outbound-api",
    }
    resp = await post_signed(client, settings, path, form)
    assert resp.status == 200
    root = ET.fromstring(await resp.text())  # noqa: S314 (our own response)
    gather, redirect = list(root)
    assert (gather.tag, gather.get("numDigits"), gather.get("action")) == (
        "Gather",
        "1",
        f"{settings.public_url}{path}/ack",
    )
    assert "Press 1 to acknowledge" in (gather.find("Say").text or "")  # type: ignore[union-attr]
    assert (redirect.tag, redirect.text) == ("Redirect", f"{settings.public_url}{path}?n=1")
    # An unsigned keypress is refused.
    forged = await client.post(f"{path}/ack", data={**form, "Digits": "1"})
    assert forged.status == 403
    resp = await post_signed(client, settings, f"{path}/ack", {**form, "Digits": "1"})
    assert "paging has stopped" in await resp.text()
    await asyncio.sleep(1.5)
    await settle_all(services)
    assert _to(fake_twilio, NURSE_2) == []
    assert _to(fake_twilio, FALLBACK) == []
    (esc,) = await escalations(services)
    assert esc.status == EscalationStatus.ACKED
    assert esc.acked_by_staff_id is not None


async def test_no_key_pressed_redirects_once_more_then_hangs_up(
    client: TestClient[Any, Any], settings: Settings, services: Services, fake_twilio: FakeTwilio
) -> None:
    await seed_oncall(services, steps((30, "1", "voice")))
    await _text(client, settings, URGENT_TEXT)
    await fake_twilio.wait_for_calls(1)
    (page,) = [p for p in await pages(services) if p.channel == "voice"]
    resp = await post_signed(
        client, settings, f"/twilio/voice/page/{page.id}?n=2", {"CallSid": "CA1", "CallStatus": "in-progress"}
    )
    root = ET.fromstring(await resp.text())  # noqa: S314
    assert [child.tag for child in root] == ["Say", "Hangup"]


async def test_second_urgent_text_attaches_and_an_emergency_raises_the_level(
    client: TestClient[Any, Any], settings: Settings, services: Services, fake_twilio: FakeTwilio
) -> None:
    await seed_oncall(services, steps((30, "1", "sms"), (30, "2", "sms")))
    await _text(client, settings, URGENT_TEXT)
    await _wait_for_to(fake_twilio, NURSE_1, 1)
    await _text(client, settings, "still have chills, temp 101.8")
    await _text(client, settings, EMERGENCY_TEXT)
    # The emergency jumps to the emergency start step (tier 2) at once, and the patient is told to call 911.
    (page,) = await _wait_for_to(fake_twilio, NURSE_2, 1)
    assert "EMERGENCY" in page
    replies = await _wait_for_to(fake_twilio, PATIENT, 2)  # "a nurse was paged", then "call 911 now"
    assert sum("call 911 now" in r for r in replies) == 1
    (esc,) = await escalations(services)
    assert esc.level == "emergency"
    kinds = await events(services, esc.id)
    assert kinds.count("message") == 3
    assert "level_raised" in kinds


async def test_emergency_text_tells_the_patient_to_call_911_in_spanish_and_pages_at_once(
    client: TestClient[Any, Any], settings: Settings, services: Services, fake_twilio: FakeTwilio
) -> None:
    await seed_oncall(services, steps((30, "1", "sms"), (30, "2", "sms")))
    await add_patient(services, PATIENT, language="es")
    await _text(client, settings, "tengo dolor de pecho y me falta el aire")
    (reply,) = await _wait_for_to(fake_twilio, PATIENT, 1)
    assert "Llame al 911" in reply
    (page,) = await _wait_for_to(fake_twilio, NURSE_2, 1)
    assert "EMERGENCY" in page
    assert _to(fake_twilio, NURSE_1) == []  # started further down the policy


async def test_opted_out_patient_urgent_text_is_still_paged(
    client: TestClient[Any, Any], settings: Settings, services: Services, fake_twilio: FakeTwilio
) -> None:
    await seed_oncall(services, steps((30, "1", "sms")))
    await _text(client, settings, "STOP")
    await _wait_for_to(fake_twilio, PATIENT, 1)  # the one confirmation
    await _text(client, settings, URGENT_TEXT)
    await _wait_for_to(fake_twilio, NURSE_1, 1)
    await settle_for(services)
    assert len(_to(fake_twilio, PATIENT)) == 1  # the patient-facing reply was suppressed, the page was not
    statuses = [m.status for m in await outbound_to(services, PATIENT)]
    assert MessageStatus.SUPPRESSED in statuses


async def test_each_step_fires_once_even_when_the_job_runs_twice(
    client: TestClient[Any, Any], settings: Settings, services: Services, fake_twilio: FakeTwilio
) -> None:
    from sqlalchemy import select

    from bot.paging import fire_step
    from storage.paging import EscalationStep

    await seed_oncall(services, steps((1, "1", "sms"), (30, "2", "sms")))
    await _text(client, settings, URGENT_TEXT)
    await _wait_for_to(fake_twilio, NURSE_1, 1)
    async with services.sessions() as session:
        (pending,) = (
            await session.execute(select(EscalationStep).where(EscalationStep.status == StepStatus.PENDING))
        ).scalars()
    await asyncio.sleep(1.1)
    await asyncio.gather(*(fire_step(services, pending.id) for _ in range(4)))
    await _wait_for_to(fake_twilio, NURSE_2, 1)
    await asyncio.sleep(0.2)
    assert len(_to(fake_twilio, NURSE_2)) == 1

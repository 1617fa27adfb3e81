"""CARELINE_PAGING_FROM: pages, alerts and answers to staff go out from a number of their own, so a page never
waits behind patient texts in the practice number's rate limit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.services import Services
from bot.settings import Settings
from storage.models import MessageStatus
from tests.conftest import PATIENT, SMS_FROM, post_signed, sms_params
from tests.fakes.twilio_api import FakeTwilio
from tests.integration.helpers import eventually
from tests.integration.paging.helpers import (
    FALLBACK,
    NURSE_1,
    URGENT_TEXT,
    add_patient,
    escalations,
    outbound_to,
    seed_oncall,
    steps,
)

PAGER = "+15550009999"
OTHER_PATIENT = "+15555550177"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {
        "fallback_phone": FALLBACK,
        "emergency_start_step": 1,
        "paging_from": PAGER,
        # one segment at once, then one per 100 s: the practice number's second text must wait
        "sms_segments_per_second": 0.01,
        "sms_burst_s": 1.0,
    }


async def _sent_from(fake: FakeTwilio, to: str, n: int) -> list[str | None]:
    async def arrived() -> bool:
        return len([m for m in fake.messages_sent if m.to == to]) >= n

    await eventually(arrived)
    return [m.from_ for m in fake.messages_sent if m.to == to]


async def test_a_page_goes_out_from_the_paging_number_while_patient_texts_wait(
    client: TestClient[Any, Any], settings: Settings, services: Services, fake_twilio: FakeTwilio
) -> None:
    await seed_oncall(services, steps((60, "1", "sms")))
    await add_patient(services, PATIENT)
    # Another patient's text is answered first and uses up the practice number's rate limit.
    resp = await post_signed(client, settings, "/twilio/sms", sms_params("what time is my appt", sender=OTHER_PATIENT))
    assert resp.status == 200
    assert await _sent_from(fake_twilio, OTHER_PATIENT, 1) == [SMS_FROM]

    resp = await post_signed(client, settings, "/twilio/sms", sms_params(URGENT_TEXT))
    assert resp.status == 200
    # The page is not held back: it has a number, and so a rate limit, of its own.
    assert await _sent_from(fake_twilio, NURSE_1, 1) == [PAGER]

    # The urgent patient's own answer waits its turn on the practice number (deferred, not lost, not dropped).
    async def deferred() -> bool:  # the send job gave its claim back until the rate limit allows
        (answer,) = await outbound_to(services, PATIENT)
        return answer.status == MessageStatus.PENDING and answer.attempts == 0

    await eventually(deferred)
    (answer,) = await outbound_to(services, PATIENT)
    assert answer.from_number == SMS_FROM
    assert answer.next_attempt_at is not None
    assert answer.next_attempt_at > services.now() + timedelta(seconds=60)
    assert not [m for m in fake_twilio.messages_sent if m.to == PATIENT]

    # The nurse answers the page; Careline's answer to her comes from the paging number too.
    (esc,) = [e for e in await escalations(services) if e.queue == "triage"]
    resp = await post_signed(client, settings, "/twilio/sms", sms_params(f"{esc.id}A", sender=NURSE_1, To=PAGER))
    assert resp.status == 200

    async def answered() -> bool:
        return len(await outbound_to(services, NURSE_1)) >= 2

    await eventually(answered)
    to_nurse = await outbound_to(services, NURSE_1)
    assert [(m.kind, m.from_number) for m in to_nurse] == [("page", PAGER), ("staff_reply", PAGER)]

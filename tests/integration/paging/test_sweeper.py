"""The sweeper fires a paging timer whose job was lost; call status callbacks are recorded on the page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import update

from bot.paging import route_to_queue
from bot.services import Services
from bot.settings import Settings
from bot.tasks import sweep
from storage import repo
from storage.paging import EscalationStep, StepStatus
from tests.conftest import PATIENT, post_signed
from tests.fakes.twilio_api import FakeTwilio
from tests.integration.paging.helpers import NURSE_1, NURSE_2, pages, seed_oncall, settle_for, steps


async def test_a_timer_whose_job_was_lost_is_fired_by_the_sweeper(
    client: TestClient[Any, Any], services: Services, fake_twilio: FakeTwilio
) -> None:
    await seed_oncall(services, steps((3600, "1", "sms"), (60, "2", "sms")))
    now = services.now()
    async with services.sessions() as session, session.begin():
        conversation = await repo.conversation_for(session, PATIENT, now)
        await route_to_queue(
            session, services, conversation_id=conversation, patient_id=None, queue="triage", level="urgent", now=now
        )
    await fake_twilio.wait_for_messages(1)
    # The deferred job for step 2 is an hour away; pretend it was due a minute ago and its job is gone.
    async with services.sessions() as session, session.begin():
        await session.execute(
            update(EscalationStep)
            .where(EscalationStep.status == StepStatus.PENDING)
            .values(due_at=now - timedelta(minutes=1))
        )
    counts = await sweep(services)
    assert counts["paging_steps"] == 1
    await fake_twilio.wait_for_messages(2)
    await settle_for(services)
    assert [m.to for m in fake_twilio.messages_sent] == [NURSE_1, NURSE_2]
    assert (await sweep(services))["paging_steps"] == 0  # fired once, not again


async def test_call_status_callbacks_are_recorded(
    client: TestClient[Any, Any], settings: Settings, services: Services, fake_twilio: FakeTwilio
) -> None:
    await seed_oncall(services, steps((3600, "1", "voice")))
    now = services.now()
    async with services.sessions() as session, session.begin():
        conversation = await repo.conversation_for(session, PATIENT, now)
        await route_to_queue(
            session, services, conversation_id=conversation, patient_id=None, queue="triage", level="urgent", now=now
        )
    (call,) = await fake_twilio.wait_for_calls(1)
    await settle_for(services)
    (params,) = fake_twilio.call_status_callbacks_for(call.sid, ["no-answer"])
    assert call.status_callback == f"{settings.public_url}/twilio/voice/status"
    resp = await post_signed(client, settings, "/twilio/voice/status", params)
    assert resp.status == 204
    (page,) = await pages(services)
    assert (page.call_sid, page.call_status) == (call.sid, "no-answer")

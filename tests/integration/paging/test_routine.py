"""Routine and request texts go to their queues without a page; after hours the patient hears when the care team
will answer. Metrics for the console are exported at /metrics."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp.test_utils import TestClient

from bot.services import Services
from bot.settings import Settings
from tests.conftest import PATIENT, post_signed, sms_params
from tests.fakes.twilio_api import FakeTwilio
from tests.integration.paging.helpers import NURSE_1, add_patient, escalations, seed_oncall, settle_all, steps

SATURDAY_NIGHT = datetime(2026, 3, 7, 3, 0, tzinfo=UTC)  # Friday 22:00 in New York
TUESDAY_MORNING = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)  # 10:00 EDT


async def test_routine_text_after_hours_says_when_the_care_team_answers(
    client: TestClient[Any, Any], settings: Settings, services: Services, fake_twilio: FakeTwilio
) -> None:
    services.clock = lambda: SATURDAY_NIGHT
    await seed_oncall(services, steps((60, "1", "sms")))
    await add_patient(services, PATIENT, language="es")
    resp = await post_signed(client, settings, "/twilio/sms", sms_params("tengo un poco de sarpullido en el brazo"))
    assert resp.status == 200
    await settle_all(services)
    (reply,) = [m.body for m in fake_twilio.messages_sent]
    assert "el lunes a las 8:00" in reply
    assert "911" in reply
    (esc,) = await escalations(services)
    assert (esc.queue, esc.level, esc.paged) == ("care-team", "routine", False)
    assert NURSE_1 not in [m.to for m in fake_twilio.messages_sent]


async def test_requests_route_to_their_queues_in_business_hours_and_the_router_acknowledges(
    client: TestClient[Any, Any], settings: Settings, services: Services, fake_twilio: FakeTwilio
) -> None:
    services.clock = lambda: TUESDAY_MORNING
    await post_signed(client, settings, "/twilio/sms", sms_params("can I reschedule my appointment thursday"))
    await post_signed(
        client, settings, "/twilio/sms", sms_params("I need a refill of my prescription", sender="+15555550188")
    )
    await settle_all(services)
    assert sorted(e.queue for e in await escalations(services)) == ["pharmacy", "scheduling"]
    assert all("we got your message" in m.body for m in fake_twilio.messages_sent)
    metrics = await (await client.get("/metrics")).text()
    for name in (
        "careline_time_to_first_page_seconds",
        "careline_time_to_ack_seconds",
        "careline_escalations_open",
        "careline_escalations_exhausted_total",
    ):
        assert name in metrics

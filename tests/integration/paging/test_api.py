"""The REST API under /api/v1: bearer tokens, 422 with field and reason, on-call across DST, escalations."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.api.auth import create_token
from bot.services import Services
from bot.settings import Settings
from storage.models import AuditLog
from tests.conftest import PATIENT, post_signed, sms_params
from tests.fakes.twilio_api import FakeTwilio
from tests.integration.paging.helpers import NURSE_1, NURSE_2, URGENT_TEXT, seed_oncall, steps


async def _token(services: Services, role: str, staff_id: int | None = None) -> dict[str, str]:
    async with services.sessions() as session, session.begin():
        token = await create_token(session, role=role, now=services.now(), staff_id=staff_id)
    return {"Authorization": f"Bearer {token}"}


async def _staff(client: TestClient[Any, Any], admin: dict[str, str], name: str, phone: str) -> int:
    resp = await client.post("/api/v1/staff", json={"name": name, "role": "nurse", "phone": phone}, headers=admin)
    assert resp.status == 201, await resp.text()
    return int((await resp.json())["id"])


async def test_openapi_document_is_public_and_lists_every_resource(client: TestClient[Any, Any]) -> None:
    resp = await client.get("/api/v1/openapi.json")
    assert resp.status == 200
    doc = await resp.json()
    assert doc["openapi"].startswith("3.")
    for path in (
        "/staff",
        "/oncall/rotations",
        "/oncall/overrides",
        "/oncall/now",
        "/policies",
        "/escalations",
        "/escalations/{id}",
        "/escalations/{id}/ack",
        "/escalations/{id}/resolve",
        "/escalations/{id}/escalate",
    ):
        assert path in doc["paths"]


async def test_tokens_and_roles(client: TestClient[Any, Any], services: Services) -> None:
    assert (await client.get("/api/v1/staff")).status == 401
    assert (await client.get("/api/v1/staff", headers={"Authorization": "Bearer nope"})).status == 401
    viewer = await _token(services, "viewer")
    assert (await client.get("/api/v1/staff", headers=viewer)).status == 200
    resp = await client.post("/api/v1/staff", json={"name": "X", "role": "nurse", "phone": NURSE_1}, headers=viewer)
    assert resp.status == 403


async def test_invalid_input_gets_422_with_each_field_and_reason(
    client: TestClient[Any, Any], services: Services
) -> None:
    admin = await _token(services, "admin")
    resp = await client.post("/api/v1/staff", json={"name": "", "role": "wizard", "phone": "12"}, headers=admin)
    assert resp.status == 422
    body = await resp.json()
    assert body["error"] == "invalid"
    assert {e["field"] for e in body["errors"]} == {"name", "role", "phone"}
    assert all(e["reason"] for e in body["errors"])
    await _staff(client, admin, "Nurse One", NURSE_1)
    dup = await client.post("/api/v1/staff", json={"name": "B", "role": "nurse", "phone": NURSE_1}, headers=admin)
    assert (await dup.json())["errors"] == [{"field": "phone", "reason": "already used by staff #1"}]
    bad_json = await client.post("/api/v1/staff", data="{", headers={**admin, "Content-Type": "application/json"})
    assert bad_json.status == 422
    rotation = {
        "name": "weekly",
        "tier": 1,
        "zone": "Mars/Olympus",
        "shift": "weekly",
        "handoff_time": "25:00",
        "handoff_weekday": 0,
        "start_date": "2026-03-03",
        "members": [1, 99],
    }
    resp = await client.post("/api/v1/oncall/rotations", json=rotation, headers=admin)
    assert resp.status == 422
    fields = {e["field"] for e in (await resp.json())["errors"]}
    assert fields == {"zone", "handoff_time", "members"}
    resp = await client.post(
        "/api/v1/oncall/rotations",
        json={**rotation, "zone": "America/New_York", "handoff_time": "08:00", "members": [1]},
        headers=admin,
    )
    assert (await resp.json())["errors"] == [
        {"field": "start_date", "reason": "2026-03-03 is a Tuesday, but weekly hand-offs are on Monday"}
    ]
    resp = await client.put(
        "/api/v1/policies/nights",
        json={"name": "n", "repeat": 1, "steps": [{"delay_seconds": -1, "targets": [{"kind": "tier", "value": "x"}]}]},
        headers=admin,
    )
    assert resp.status == 422
    assert {e["field"] for e in (await resp.json())["errors"]} == {
        "steps[0].delay_seconds",
        "steps[0].targets[0].value",
    }
    resp = await client.get("/api/v1/oncall/now?at=2026-03-08T02:30:00", headers=admin)
    assert resp.status == 422
    assert (await resp.json())["errors"][0]["field"] == "at"
    resp = await client.get("/api/v1/escalations?status=maybe&limit=0", headers=admin)
    assert {e["field"] for e in (await resp.json())["errors"]} == {"status", "limit"}


@pytest.mark.parametrize(
    ("start", "before", "after"),
    [
        # Spring forward: the 02:30 hand-off does not exist on 2026-03-08; it happens at 03:00 EDT (07:00Z).
        ("2026-03-01", "2026-03-08T06:59:59Z", "2026-03-08T07:00:00Z"),
        # Fall back: 01:30 happens twice on 2026-11-01; the hand-off is the first one (EDT, 05:30Z).
        ("2026-10-25", "2026-11-01T05:29:59Z", "2026-11-01T05:30:00Z"),
    ],
)
async def test_who_is_on_call_across_both_dst_changes(
    client: TestClient[Any, Any], services: Services, start: str, before: str, after: str
) -> None:
    admin = await _token(services, "admin")
    a = await _staff(client, admin, "Nurse A", NURSE_1)
    b = await _staff(client, admin, "Nurse B", NURSE_2)
    handoff = "02:30" if start.startswith("2026-03") else "01:30"
    resp = await client.post(
        "/api/v1/oncall/rotations",
        json={
            "name": "nights",
            "tier": 1,
            "zone": "America/New_York",
            "shift": "daily",
            "handoff_time": handoff,
            "start_date": start,
            "members": [a, b],
        },
        headers=admin,
    )
    assert resp.status == 201, await resp.text()

    async def who(at: str) -> list[int]:
        r = await client.get("/api/v1/oncall/now", params={"at": at}, headers=admin)
        assert r.status == 200, await r.text()
        (tier,) = (await r.json())["tiers"]
        return [s["id"] for s in tier["staff"]]

    # Day 7 of a two-person daily rotation: A until the hand-off that day, then B.
    assert await who(before) == [a]
    assert await who(after) == [b]
    # An override replaces B for an hour.
    c = await _staff(client, admin, "Nurse C", "+15555550160")
    resp = await client.post(
        "/api/v1/oncall/overrides",
        json={"tier": 1, "staff_id": c, "replaces_staff_id": b, "start": after, "end": after.replace("Z", "+00:00")},
        headers=admin,
    )
    assert resp.status == 422  # end must be after start
    resp = await client.post(
        "/api/v1/oncall/overrides",
        json={"tier": 1, "staff_id": c, "replaces_staff_id": b, "start": after, "end": "2026-12-31T00:00:00Z"},
        headers=admin,
    )
    assert resp.status == 201
    assert await who(after) == [c]


async def test_escalations_list_detail_ack_resolve_through_the_api(
    client: TestClient[Any, Any], settings: Settings, services: Services, fake_twilio: FakeTwilio
) -> None:
    oncall = await seed_oncall(services, steps((60, "1", "sms"), (60, "2", "sms")))
    nurse = await _token(services, "nurse", staff_id=oncall.nurse_1)
    other = await _token(services, "nurse", staff_id=oncall.nurse_2)
    resp = await post_signed(client, settings, "/twilio/sms", sms_params(URGENT_TEXT))
    assert resp.status == 200
    # Wait for the page itself, not just any text: the patient's reply can reach the fake API first.
    async with asyncio.timeout(10):
        while True:
            if any(m.to == NURSE_1 for m in fake_twilio.messages_sent):
                break
            await asyncio.sleep(0.05)
    async with asyncio.timeout(5):
        while True:
            listed = await (await client.get("/api/v1/escalations?status=open&level=urgent", headers=nurse)).json()
            if listed["escalations"] and listed["escalations"][0]["first_page_at"]:
                break
            await asyncio.sleep(0.05)
    (esc,) = listed["escalations"]
    assert (esc["queue"], esc["level"], esc["paged"]) == ("triage", "urgent", True)
    assert esc["first_page_at"] is not None
    detail = await (await client.get(f"/api/v1/escalations/{esc['id']}", headers=nurse)).json()
    kinds = [item["kind"] for item in detail["timeline"]]
    assert kinds == ["opened", "message", "triage", "page"]
    assert detail["timeline"][1]["message"]["body"] == URGENT_TEXT
    assert detail["timeline"][2]["triage"]["level"] == "urgent"
    resp = await client.post(f"/api/v1/escalations/{esc['id']}/ack", headers=nurse)
    assert resp.status == 200
    assert (await resp.json())["escalation"]["status"] == "acked"
    resp = await client.post(f"/api/v1/escalations/{esc['id']}/ack", headers=other)
    assert resp.status == 409
    assert (await resp.json())["taken_by"] == "Nurse One"
    resp = await client.post(f"/api/v1/escalations/{esc['id']}/resolve", json={"note": "called, fine"}, headers=nurse)
    assert resp.status == 200
    assert (await resp.json())["escalation"]["status"] == "resolved"
    assert (await client.post("/api/v1/escalations/999/ack", headers=nurse)).status == 404
    async with services.sessions() as session:
        audit = list((await session.execute(select(AuditLog).where(AuditLog.entity == "escalation"))).scalars())
    assert {(a.action, a.entity_id) for a in audit} >= {("list", "*"), ("view", str(esc["id"]))}
    assert all(a.actor == f"staff:{oncall.nurse_1}" for a in audit)
    assert [m.to for m in fake_twilio.messages_sent if m.to in (NURSE_1, NURSE_2)] == [NURSE_1]
    # The patient also heard from us.
    assert any(m.to == PATIENT for m in await fake_twilio.wait_for_messages(2, timeout=15))

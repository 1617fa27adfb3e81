"""Helpers for paging tests: three staff on call in tiers 1-3, a policy with delays in seconds."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.jobs import InProcessQueue
from bot.paging import flush_after_commit
from bot.services import Services
from storage.models import Message, Patient, Staff
from storage.paging import Escalation, EscalationEvent, Page, PolicyRow, RotationRow

NURSE_1 = "+15555550150"
NURSE_2 = "+15555550151"
DOCTOR = "+15555550152"
FALLBACK = "+15555550199"
URGENT_TEXT = "my temp is 101.5 and I have chills"
EMERGENCY_TEXT = "I have chest pain and can't breathe"


@dataclass
class OnCall:
    nurse_1: int
    nurse_2: int
    doctor: int


def steps(*specs: tuple[int, str, str]) -> list[dict[str, Any]]:
    """(delay_seconds, tier, channels) per step."""
    return [
        {"delay_seconds": delay, "channels": channels, "targets": [{"kind": "tier", "value": tier}]}
        for delay, tier, channels in specs
    ]


async def seed_oncall(services: Services, policy_steps: list[dict[str, Any]] | None = None, repeat: int = 0) -> OnCall:
    """Three staff, each alone in a daily rotation of their tier, and the 'default' policy."""
    now = services.now()
    ids: list[int] = []
    async with services.sessions() as session, session.begin():
        for phone, name, role in (
            (NURSE_1, "Nurse One", "nurse"),
            (NURSE_2, "Nurse Two", "nurse"),
            (DOCTOR, "Dr Three", "physician"),
        ):
            staff = Staff(name=name, role=role, phone=phone, created_at=now, updated_at=now)
            session.add(staff)
            await session.flush()
            ids.append(staff.id)
        for tier, staff_id in enumerate(ids, start=1):
            session.add(
                RotationRow(
                    name=f"tier {tier}",
                    tier=tier,
                    zone="America/New_York",
                    shift="daily",
                    handoff_time="08:00",
                    handoff_weekday=None,
                    start_date=date(2026, 1, 5),
                    members=[str(staff_id)],
                    created_at=now,
                    updated_at=now,
                )
            )
        session.add(
            PolicyRow(
                key="default",
                name="test policy",
                repeat=repeat,
                steps=policy_steps or steps((1, "1", "sms"), (1, "2", "sms")),
                created_at=now,
                updated_at=now,
            )
        )
    return OnCall(*ids)


async def add_patient(services: Services, phone: str, language: str = "en") -> int:
    now = services.now()
    async with services.sessions() as session, session.begin():
        patient = Patient(
            phone=phone,
            first_name="Ana",
            last_name="Test",
            language=language,
            treatment="chemotherapy",
            created_at=now,
            updated_at=now,
        )
        session.add(patient)
        await session.flush()
        return patient.id


async def settle_all(services: Services) -> None:
    """Wait for every job, including deferred timers and the enqueues made after commits."""
    queue = services.queue
    assert isinstance(queue, InProcessQueue)
    for _ in range(3):
        await flush_after_commit()
        await queue.drain(timeout=30)
        await asyncio.sleep(0)


async def settle_for(services: Services, seconds: float = 0.5) -> None:
    """Let the jobs due now run, leaving long-deferred timers waiting (they are cancelled at teardown)."""
    queue = services.queue
    assert isinstance(queue, InProcessQueue)
    await flush_after_commit()
    with contextlib.suppress(TimeoutError):
        await queue.drain(timeout=seconds)
    await flush_after_commit()


async def escalations(services: Services) -> list[Escalation]:
    async with services.sessions() as session:
        return list((await session.execute(select(Escalation).order_by(Escalation.id))).scalars())


async def pages(services: Services) -> list[Page]:
    async with services.sessions() as session:
        return list((await session.execute(select(Page).order_by(Page.id))).scalars())


async def events(services: Services, escalation_id: int) -> list[str]:
    async with services.sessions() as session:
        rows = await session.execute(
            select(EscalationEvent.kind)
            .where(EscalationEvent.escalation_id == escalation_id)
            .order_by(EscalationEvent.id)
        )
        return list(rows.scalars())


async def outbound_to(services: Services, phone: str) -> list[Message]:
    async with services.sessions() as session:
        rows = await session.execute(select(Message).where(Message.to_number == phone).order_by(Message.id))
        return list(rows.scalars())


def at(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def later(services: Services, seconds: float) -> datetime:
    return services.now() + timedelta(seconds=seconds)

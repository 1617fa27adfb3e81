"""`careline seed-demo`: a demo practice for `make run` (idempotent: run it as often as you like)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.importer import import_rotations
from storage.models import Patient, Staff

DEMO_PATIENTS = (
    # Fictional people on the 555-01xx numbers reserved for fiction.
    ("+15555550123", "Maria", "Lopez", "es", "America/Chicago", "chemotherapy"),
    ("+15555550124", "James", "Carter", "en", "America/New_York", "immunotherapy"),
)
DEMO_STAFF = (
    ("+15555550150", "Nurse Alex Kim", "nurse", "alex.kim@example.org"),
    ("+15555550151", "Nurse Sam Ortiz", "nurse", "sam.ortiz@example.org"),
    ("+15555550152", "Dr. Priya Shah", "physician", "priya.shah@example.org"),
)


DEMO_ROTATIONS = """rotation,tier,zone,shift,handoff_time,handoff_weekday,start_date,members
Demo nurses,1,America/New_York,daily,08:00,,2026-01-05,alex.kim@example.org;sam.ortiz@example.org
Demo physicians,2,America/New_York,weekly,08:00,monday,2026-01-05,priya.shah@example.org
"""


async def seed_demo(session: AsyncSession, now: datetime) -> int:
    added = 0
    for phone, first, last, lang, zone, treatment in DEMO_PATIENTS:
        if (await session.execute(select(Patient.id).where(Patient.phone == phone))).first() is None:
            session.add(
                Patient(
                    phone=phone,
                    first_name=first,
                    last_name=last,
                    language=lang,
                    timezone=zone,
                    treatment=treatment,
                    created_at=now,
                    updated_at=now,
                )
            )
            added += 1
    for phone, name, role, email in DEMO_STAFF:
        if (await session.execute(select(Staff.id).where(Staff.phone == phone))).first() is None:
            session.add(Staff(phone=phone, name=name, role=role, email=email, created_at=now, updated_at=now))
            added += 1
    await session.flush()
    # The on-call schedule goes through the same importer as `careline import rotations` (idempotent).
    report = await import_rotations(session, DEMO_ROTATIONS, now, actor="seed-demo")
    if report.errors:
        raise RuntimeError(f"demo rotations did not import: {report.errors}")
    return added + report.added

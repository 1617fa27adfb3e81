"""`careline import staff|rotations FILE.csv`: all rows or none, every bad row reported, re-import changes nothing.

Parsing and row checks are triage/importcsv.py's (pure). Here: the checks that need the database (a phone or
email already used by another staff member), then one transaction that inserts new rows and updates changed
ones, keyed by staff phone and rotation name.

Staff columns:     name,role,phone,email,active
Rotation columns:  rotation,tier,zone,shift,handoff_time,handoff_weekday,start_date,members
(members: staff phones or emails separated by `;`, in turn order)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import repo
from storage.models import Staff
from storage.paging import RotationRow
from triage.importcsv import RowError, parse_rotations_csv, parse_staff_csv


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def lines(self) -> list[str]:
        if self.errors:
            return [f"row {e.row}" + (f", {e.column}" if e.column else "") + f": {e.reason}" for e in self.errors]
        return [f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged"]


async def import_staff(session: AsyncSession, text: str, now: datetime, actor: str = "cli") -> ImportReport:
    """Import staff in the caller's transaction; on any error nothing is written."""
    parsed = parse_staff_csv(text)
    if not parsed.ok:
        return ImportReport(errors=list(parsed.errors))
    existing = {s.phone: s for s in (await session.execute(select(Staff))).scalars()}
    by_email = {s.email: s for s in existing.values() if s.email}
    report = ImportReport()
    for row in parsed.rows:
        owner = by_email.get(row.email) if row.email else None
        if owner is not None and owner.phone != row.phone:
            report.errors.append(RowError(row.row, "email", f"{row.email} belongs to another staff member"))
    if report.errors:
        return report
    for row in parsed.rows:
        values = {"name": row.name, "role": row.role, "email": row.email, "active": row.active}
        staff = existing.get(row.phone)
        if staff is None:
            session.add(Staff(phone=row.phone, **values, created_at=now, updated_at=now))
        _count(report, staff, values, now)
    return await _finish(session, report, "staff", actor, now)


async def import_rotations(session: AsyncSession, text: str, now: datetime, actor: str = "cli") -> ImportReport:
    """Import rotations (members resolved through the active staff's phones and emails)."""
    staff = list((await session.execute(select(Staff).where(Staff.active.is_(True)))).scalars())
    directory: dict[str, str] = {}
    for s in staff:
        directory[s.phone] = str(s.id)
        if s.email:
            directory[s.email.lower()] = str(s.id)
    parsed = parse_rotations_csv(text, directory)
    if not parsed.ok:
        return ImportReport(errors=list(parsed.errors))
    existing = {r.name.casefold(): r for r in (await session.execute(select(RotationRow))).scalars()}
    report = ImportReport()
    for row in parsed.rows:
        values = {
            "name": row.name,
            "tier": row.tier,
            "zone": row.zone,
            "shift": row.shift,
            "handoff_time": row.handoff_time.strftime("%H:%M"),
            "handoff_weekday": row.handoff_weekday,
            "start_date": row.start_date,
            "members": list(row.members),
        }
        current = existing.get(row.name.casefold())
        if current is None:
            session.add(RotationRow(**values, created_at=now, updated_at=now))
        _count(report, current, values, now)
    return await _finish(session, report, "rotation", actor, now)


def _count(report: ImportReport, current: Staff | RotationRow | None, values: dict[str, Any], now: datetime) -> None:
    """Count a row as added (no current record), updated (and update it) or unchanged: re-imports change nothing."""
    if current is None:
        report.added += 1
    elif any(getattr(current, k) != v for k, v in values.items()):
        for k, v in values.items():
            setattr(current, k, v)
        current.updated_at = now
        report.updated += 1
    else:
        report.unchanged += 1


async def _finish(session: AsyncSession, report: ImportReport, entity: str, actor: str, now: datetime) -> ImportReport:
    await session.flush()
    await repo.audit(
        session,
        actor=actor,
        action="import",
        entity=entity,
        entity_id="*",
        now=now,
        detail={"added": report.added, "updated": report.updated},
    )
    return report

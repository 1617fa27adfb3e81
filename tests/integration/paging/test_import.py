"""`careline import staff|rotations FILE.csv`: every bad row reported, nothing half-imported, idempotent."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from bot.importer import import_rotations, import_staff
from bot.paging import on_call_at
from storage.db import create_engine, session_factory
from storage.models import Staff
from storage.paging import RotationRow

CARELINE = str(Path(sys.executable).with_name("careline"))
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 10:00 EST, after the first hand-offs

STAFF_CSV = """name,role,phone,email,active
Alex Kim,nurse,(617) 253-1234,alex.kim@example.org,yes
Sam Ortiz,nurse,+1 617 555 0123,,
Priya Shah,physician,212-555-1234,priya.shah@example.org,true
"""

ROTATIONS_CSV = """rotation,tier,zone,shift,handoff_time,handoff_weekday,start_date,members
Nurses,1,America/New_York,weekly,08:00,Monday,2026-03-02,alex.kim@example.org;+16175550123
Physicians,3,America/New_York,daily,7am,,2026-03-01,2125551234
"""


async def _counts(url: str) -> tuple[int, int]:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            staff = int((await session.execute(select(func.count()).select_from(Staff))).scalar_one())
            rotations = int((await session.execute(select(func.count()).select_from(RotationRow))).scalar_one())
            return staff, rotations
    finally:
        await engine.dispose()


async def test_import_staff_and_rotations_twice_changes_nothing_the_second_time(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        for expected in ((3, 0, 0), (0, 0, 3)):
            async with session_factory(engine)() as session, session.begin():
                report = await import_staff(session, STAFF_CSV, NOW)
            assert report.ok
            assert (report.added, report.updated, report.unchanged) == expected
        for expected in ((2, 0, 0), (0, 0, 2)):
            async with session_factory(engine)() as session, session.begin():
                report = await import_rotations(session, ROTATIONS_CSV, NOW)
            assert report.ok, report.lines()
            assert (report.added, report.updated, report.unchanged) == expected
        async with session_factory(engine)() as session:
            tiers = await on_call_at(session, NOW)
            alex = (await session.execute(select(Staff.id).where(Staff.name == "Alex Kim"))).scalar_one()
        assert tiers[1] == (str(alex),)
        assert len(tiers[3]) == 1
        # A changed row updates in place.
        async with session_factory(engine)() as session, session.begin():
            report = await import_staff(session, STAFF_CSV.replace("Sam Ortiz,nurse", "Sam Ortiz,admin"), NOW)
        assert (report.added, report.updated, report.unchanged) == (0, 1, 2)
    finally:
        await engine.dispose()
    assert await _counts(database_url) == (3, 2)


async def test_bad_rows_are_each_reported_and_nothing_is_imported(database_url: str) -> None:
    bad = STAFF_CSV + "No Phone,nurse,,,\nBad Role,wizard,+13125557788,,\nAlex Again,nurse,617-253-1234,,\n"
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            report = await import_staff(session, bad, NOW)
        assert not report.ok
        assert [(e.row, e.column) for e in report.errors] == [(5, "phone"), (6, "role"), (7, "phone")]
        assert report.lines()[0] == "row 5, phone: is required"
        async with session_factory(engine)() as session, session.begin():
            report = await import_rotations(session, ROTATIONS_CSV, NOW)
        assert [(e.row, e.column) for e in report.errors] == [(2, "members"), (2, "members"), (3, "members")]
    finally:
        await engine.dispose()
    assert await _counts(database_url) == (0, 0)


def test_cli_import_reports_rows_and_exit_codes(tmp_path: Path, sqlite_template: Path) -> None:
    db = tmp_path / "careline.db"
    db.write_bytes(sqlite_template.read_bytes())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CARELINE_", "TWILIO_"))}
    env["CARELINE_DATABASE_URL"] = f"sqlite+aiosqlite:///{db}"
    staff = tmp_path / "staff.csv"
    staff.write_text(STAFF_CSV)
    rotations = tmp_path / "rotations.csv"
    rotations.write_text(ROTATIONS_CSV.replace("Monday", "Tuesday"))
    ok = subprocess.run([CARELINE, "import", "staff", str(staff)], env=env, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert "3 added, 0 updated, 0 unchanged" in ok.stdout
    bad = subprocess.run(
        [CARELINE, "import", "rotations", str(rotations)], env=env, capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 1
    assert "row 2, start_date: 2026-03-02 is a Monday, but weekly hand-offs are on Tuesday" in bad.stderr
    token = subprocess.run(
        [CARELINE, "token", "create", "--role", "admin"], env=env, capture_output=True, text=True, timeout=60
    )
    assert token.returncode == 0
    assert token.stdout.startswith("cl_")

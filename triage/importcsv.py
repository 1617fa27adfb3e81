"""Import staff and rotations from CSV text, as exported from a spreadsheet.

Pure: takes text, returns data. A file is imported whole or not at all: the result holds either every parsed
row or every error found, each as (row_number, column, reason) with row numbers as the spreadsheet shows them
(the header is row 1). Header names are matched case-insensitively and a UTF-8 byte-order mark (Excel) is
ignored; blank lines are skipped but still counted, so numbers stay aligned with the spreadsheet.

Staff:     name,role,phone,email,active
Rotations: rotation,tier,zone,shift,handoff_time,handoff_weekday,start_date,members
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time
from typing import Generic, Literal, TypeVar

import phonenumbers

from triage.oncall import WEEKDAY_NAMES, Rotation, ShiftKind, load_zone, validate_rotation

Role = Literal["nurse", "physician", "admin", "staff"]
ROLES: tuple[Role, ...] = ("nurse", "physician", "admin", "staff")

STAFF_COLUMNS = ("name", "role", "phone", "email", "active")
ROTATION_COLUMNS = (
    "rotation",
    "tier",
    "zone",
    "shift",
    "handoff_time",
    "handoff_weekday",
    "start_date",
    "members",
)

DEFAULT_REGION = "US"
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_TIME_24H = re.compile(r"(\d{1,2}):(\d{2})")
_TIME_12H = re.compile(r"(\d{1,2})(?::(\d{2}))? ?([ap])\.? ?m\.?")
_TRUE = frozenset({"true", "yes", "y", "1", "active", "x"})
_FALSE = frozenset({"false", "no", "n", "0", "inactive"})

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem: `row` as the spreadsheet numbers it (header = 1), `column` ('' for the whole row)."""

    row: int
    column: str
    reason: str


@dataclass(frozen=True, slots=True)
class ImportResult(Generic[T]):
    """Either `rows` (everything parsed) or `errors` (everything wrong); never both."""

    rows: tuple[T, ...] = ()
    errors: tuple[RowError, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True, slots=True)
class StaffRow:
    row: int
    name: str
    role: Role
    phone: str  # E.164
    email: str | None  # lower-cased; None when the cell is empty
    active: bool


@dataclass(frozen=True, slots=True)
class RotationRow:
    row: int
    name: str
    tier: int
    zone: str
    shift: ShiftKind
    handoff_time: time
    handoff_weekday: int | None
    start_date: date
    members: tuple[str, ...]  # staff ids, resolved through the directory

    def to_rotation(self, rotation_id: str) -> Rotation:
        return Rotation(
            id=rotation_id,
            name=self.name,
            tier=self.tier,
            zone=self.zone,
            shift=self.shift,
            handoff_time=self.handoff_time,
            handoff_weekday=self.handoff_weekday,
            start=self.start_date,
            members=self.members,
        )


# --- cell parsers: each returns the value or raises ValueError with a reason for the user ------------------


def normalize_phone(value: str, region: str = DEFAULT_REGION) -> str:
    """`value` in E.164 (+16175550123); ValueError with a reason if it is not a valid number."""
    text = value.strip()
    if not text:
        raise ValueError("is required")
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"{text!r} is not a phone number") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError(f"{text!r} is not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(value: str) -> str:
    text = value.strip().lower()
    if not _EMAIL.fullmatch(text):
        raise ValueError(f"{value.strip()!r} is not an email address")
    return text


def _parse_role(value: str) -> Role:
    text = value.strip().lower()
    for role in ROLES:
        if text == role:
            return role
    raise ValueError(f"{value.strip()!r} is not a role; use one of {', '.join(ROLES)}")


def _parse_active(value: str) -> bool:
    text = value.strip().lower()
    if not text or text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{value.strip()!r} is not yes/no; use true or false (empty means true)")


def _parse_tier(value: str) -> int:
    text = value.strip()
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise ValueError(f"{text!r} is not a tier; use a whole number, 1 or more")
    return int(text)


def _parse_zone(value: str) -> str:
    text = value.strip()
    if not text:
        raise ValueError("is required, e.g. America/New_York")
    load_zone(text)
    return text


def _parse_shift(value: str) -> ShiftKind:
    text = value.strip().lower()
    if text == "daily":
        return "daily"
    if text == "weekly":
        return "weekly"
    raise ValueError(f"{value.strip()!r} is not a shift; use daily or weekly")


def _parse_time(value: str) -> time:
    text = value.strip().lower()
    if m := _TIME_24H.fullmatch(text):
        hour, minute = int(m.group(1)), int(m.group(2))
    elif m := _TIME_12H.fullmatch(text):
        hour, minute = int(m.group(1)), int(m.group(2) or 0)
        if not 1 <= hour <= 12:
            raise ValueError(f"{value.strip()!r} is not a time; use 24-hour HH:MM, e.g. 07:00")
        hour = hour % 12 + (12 if m.group(3) == "p" else 0)
    else:
        raise ValueError(f"{value.strip()!r} is not a time; use 24-hour HH:MM, e.g. 07:00")
    if hour > 23 or minute > 59:
        raise ValueError(f"{value.strip()!r} is not a time; use 24-hour HH:MM, e.g. 07:00")
    return time(hour, minute)


def _parse_weekday(value: str) -> int | None:
    text = value.strip().lower()
    if not text:
        return None
    if text.isascii() and text.isdigit() and int(text) <= 6:
        return int(text)
    for i, day in enumerate(WEEKDAY_NAMES):
        if len(text) >= 3 and day.lower().startswith(text):
            return i
    raise ValueError(f"{value.strip()!r} is not a weekday; use 0 (Monday) to 6 (Sunday) or a day name")


def _parse_date(value: str) -> date:
    text = value.strip()
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date; use YYYY-MM-DD, e.g. 2026-03-02") from None


# --- the table reader ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Record:
    row: int
    cells: Mapping[str, str]


def _read_table(text: str, columns: Sequence[str]) -> tuple[list[_Record], list[RowError]]:
    """Split CSV text into records keyed by column name, checking the header and field counts."""
    errors: list[RowError] = []
    if text.startswith("\ufeff"):
        text = text[1:]
    raw_rows: list[list[str]] = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        for cells in reader:
            raw_rows.append(cells)
    except csv.Error as exc:
        return [], [RowError(len(raw_rows) + 1, "", f"not valid CSV here ({exc}); check for a stray quote")]
    if not raw_rows or not any(cell.strip() for cell in raw_rows[0]):
        return [], [RowError(1, "", f"the header row is missing; expected: {','.join(columns)}")]
    header = [cell.strip().lower() for cell in raw_rows[0]]
    while header and not header[-1]:  # spreadsheets pad the header with empty cells
        header.pop()
    seen: set[str] = set()
    for name in header:
        if not name:
            errors.append(RowError(1, "", "a header cell is empty"))
        elif name in seen:
            errors.append(RowError(1, name, "column appears more than once"))
        elif name not in columns:
            errors.append(RowError(1, name, f"unexpected column; expected only: {','.join(columns)}"))
        seen.add(name)
    for name in columns:
        if name not in seen:
            errors.append(RowError(1, name, "required column is missing"))
    if errors:
        return [], errors
    records: list[_Record] = []
    for index, cells in enumerate(raw_rows[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            # Trailing empty cells are what spreadsheets add; tolerate those.
            if len(cells) > len(header) and not any(c.strip() for c in cells[len(header) :]):
                cells = cells[: len(header)]
            else:
                errors.append(RowError(index, "", f"expected {len(header)} cells, found {len(cells)}"))
                continue
        records.append(_Record(index, dict(zip(header, cells, strict=True))))
    return records, errors


class _RowParser:
    """Collects the errors of one row while parsing its cells."""

    def __init__(self, record: _Record, errors: list[RowError]) -> None:
        self.record = record
        self.errors = errors
        self.failed = False
        self.failed_columns: set[str] = set()

    def cell(self, column: str, parse: Callable[[str], T]) -> T | None:
        try:
            return parse(self.record.cells[column])
        except ValueError as exc:
            self.fail(column, str(exc))
            return None

    def fail(self, column: str, reason: str) -> None:
        self.errors.append(RowError(self.record.row, column, reason))
        self.failed = True
        self.failed_columns.add(column)


def _required(value: str) -> str:
    text = " ".join(value.split())
    if not text:
        raise ValueError("is required")
    return text


def _sorted(errors: Iterable[RowError]) -> tuple[RowError, ...]:
    return tuple(sorted(errors, key=lambda e: e.row))


# --- staff --------------------------------------------------------------------------------------------------


def parse_staff_csv(text: str, region: str = DEFAULT_REGION) -> ImportResult[StaffRow]:
    """Staff rows, or every error. Phones become E.164 (numbers without +country are read in `region`).

    Keys: phone and (non-empty) email must each be unique within the file.
    """
    records, errors = _read_table(text, STAFF_COLUMNS)
    rows: list[StaffRow] = []
    phones: dict[str, int] = {}
    emails: dict[str, int] = {}
    for record in records:
        p = _RowParser(record, errors)
        name = p.cell("name", _required)
        role = p.cell("role", _parse_role)
        phone = p.cell("phone", lambda v: normalize_phone(v, region))
        raw_email = record.cells["email"].strip()
        email = p.cell("email", normalize_email) if raw_email else None
        active = p.cell("active", _parse_active)
        if phone is not None:
            if phone in phones:
                p.fail("phone", f"{phone} is already used on row {phones[phone]}")
            else:
                phones[phone] = record.row
        if email is not None:
            if email in emails:
                p.fail("email", f"{email} is already used on row {emails[email]}")
            else:
                emails[email] = record.row
        if p.failed or name is None or role is None or phone is None or active is None:
            continue
        rows.append(StaffRow(record.row, name, role, phone, email, active))
    if errors:
        return ImportResult(errors=_sorted(errors))
    return ImportResult(rows=tuple(rows))


def staff_directory(staff: Iterable[StaffRow]) -> dict[str, str]:
    """Map each *active* staff member's phone and email to their id, here their E.164 phone.

    Storage builds the same mapping from its own table with real staff ids.
    """
    directory: dict[str, str] = {}
    for person in staff:
        if not person.active:
            continue
        directory[person.phone] = person.phone
        if person.email:
            directory[person.email] = person.phone
    return directory


# --- rotations ----------------------------------------------------------------------------------------------


def _resolve_members(value: str, directory: Mapping[str, str], region: str) -> tuple[tuple[str, ...], list[str]]:
    members: list[str] = []
    problems: list[str] = []
    parts = [part.strip() for part in value.split(";")]
    if not any(parts):
        return (), ["needs at least one member (phones or emails separated by ;)"]
    for part in parts:
        if not part:
            continue
        try:
            key = normalize_email(part) if "@" in part else normalize_phone(part, region)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        staff_id = directory.get(key)
        if staff_id is None:
            problems.append(f"{part!r} matches no active staff member")
        else:
            members.append(staff_id)
    return tuple(members), problems


def parse_rotations_csv(
    text: str, directory: Mapping[str, str], region: str = DEFAULT_REGION
) -> ImportResult[RotationRow]:
    """Rotation rows, or every error. Members are staff phones or emails separated by `;`, looked up in
    `directory` (normalized phone or lower-cased email -> staff id; see `staff_directory`).

    Key: the rotation name must be unique within the file (case-insensitive).
    """
    records, errors = _read_table(text, ROTATION_COLUMNS)
    rows: list[RotationRow] = []
    names: dict[str, int] = {}
    for record in records:
        p = _RowParser(record, errors)
        name = p.cell("rotation", _required)
        tier = p.cell("tier", _parse_tier)
        zone = p.cell("zone", _parse_zone)
        shift = p.cell("shift", _parse_shift)
        handoff = p.cell("handoff_time", _parse_time)
        weekday = p.cell("handoff_weekday", _parse_weekday)
        start = p.cell("start_date", _parse_date)
        members, problems = _resolve_members(record.cells["members"], directory, region)
        for problem in problems:
            p.fail("members", problem)
        if name is not None:
            key = name.casefold()
            if key in names:
                p.fail("rotation", f"{name!r} is already defined on row {names[key]}")
            else:
                names[key] = record.row
        if name is None or tier is None or zone is None or shift is None or handoff is None or start is None:
            continue
        row = RotationRow(record.row, name, tier, zone, shift, handoff, weekday, start, members)
        # The remaining checks (weekday vs shift, start on the hand-off weekday) live with the model.
        # Reported even when another cell of the row failed, unless that column already has an error.
        column_of = {"start": "start_date", "id": "rotation", "name": "rotation"}
        already = set(p.failed_columns)
        for field_error in validate_rotation(row.to_rotation(name)):
            column = column_of.get(field_error.field, field_error.field)
            if column not in already:
                p.fail(column, field_error.reason)
        if not p.failed:
            rows.append(row)
    if errors:
        return ImportResult(errors=_sorted(errors))
    return ImportResult(rows=tuple(rows))

"""CSV import of staff and rotations: all rows or all errors, numbered as the spreadsheet shows them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from triage.importcsv import (
    ROTATION_COLUMNS,
    STAFF_COLUMNS,
    RowError,
    StaffRow,
    normalize_phone,
    parse_rotations_csv,
    parse_staff_csv,
    staff_directory,
)
from triage.oncall import on_call

STAFF = """name,role,phone,email,active
Ana Pérez,nurse,(617) 555-0101,Ana@Example.org,true
Bo Chen,Nurse,+1 617 555 0102,,yes
"Cy O'Neil, RN",nurse,617.555.0103,cy@example.org,
Dr. Dee,physician,+44 20 7946 0958,dee@example.org,TRUE
Old Timer,staff,6175550109,old@example.org,no
"""

ROTATIONS = """rotation,tier,zone,shift,handoff_time,handoff_weekday,start_date,members
Nurses days,1,America/New_York,daily,07:00,,2026-03-06,6175550101;  +1 617 555 0102 ;CY@example.org
Physicians,3,Europe/London,weekly,8:00 AM,Monday,2026-03-02,dee@example.org
"""


def staff() -> tuple[StaffRow, ...]:
    result = parse_staff_csv(STAFF)
    assert result.ok, result.errors
    return result.rows


def test_staff_parse() -> None:
    rows = staff()
    assert [(r.row, r.name, r.role, r.phone, r.email, r.active) for r in rows] == [
        (2, "Ana Pérez", "nurse", "+16175550101", "ana@example.org", True),
        (3, "Bo Chen", "nurse", "+16175550102", None, True),
        (4, "Cy O'Neil, RN", "nurse", "+16175550103", "cy@example.org", True),
        (5, "Dr. Dee", "physician", "+442079460958", "dee@example.org", True),
        (6, "Old Timer", "staff", "+16175550109", "old@example.org", False),
    ]


def test_excel_bom_header_case_crlf_and_trailing_empty_cells() -> None:
    text = "\ufeffName , ROLE,Phone,Email,Active,,\r\nAna,nurse,6175550101,,true,,\r\n"
    result = parse_staff_csv(text)
    assert result.ok, result.errors
    assert result.rows[0].phone == "+16175550101"


def test_columns_in_any_order() -> None:
    result = parse_staff_csv("phone,active,email,role,name\n6175550101,1,,admin,Ana\n")
    assert result.ok
    assert result.rows[0].role == "admin"


def test_missing_and_extra_columns_are_reported_by_name() -> None:
    result = parse_staff_csv("name,role,phone number,email,active,email\nAna,nurse,1,,true,\n")
    assert not result.ok
    assert result.rows == ()
    assert result.errors == (
        RowError(1, "phone number", "unexpected column; expected only: name,role,phone,email,active"),
        RowError(1, "email", "column appears more than once"),
        RowError(1, "phone", "required column is missing"),
    )


@pytest.mark.parametrize("text", ["", "\n\n", "\ufeff"])
def test_empty_file(text: str) -> None:
    result = parse_staff_csv(text)
    assert result.errors == (RowError(1, "", f"the header row is missing; expected: {','.join(STAFF_COLUMNS)}"),)


def test_header_only_is_an_empty_import() -> None:
    result = parse_staff_csv("name,role,phone,email,active\n")
    assert result.ok
    assert result.rows == ()


def test_every_bad_cell_is_reported_and_nothing_is_returned() -> None:
    text = """name,role,phone,email,active
Ana,nurse,6175550101,ana@example.org,true
,doctor,12,not-an-email,maybe
Bo,nurse,(617) 555-0101,ANA@example.org,true
"""
    result = parse_staff_csv(text)
    assert result.rows == ()
    assert [(e.row, e.column) for e in result.errors] == [
        (3, "name"),
        (3, "role"),
        (3, "phone"),
        (3, "email"),
        (3, "active"),
        (4, "phone"),
        (4, "email"),
    ]
    by_column = {(e.row, e.column): e.reason for e in result.errors}
    assert by_column[(3, "role")] == "'doctor' is not a role; use one of nurse, physician, admin, staff"
    assert by_column[(4, "phone")] == "+16175550101 is already used on row 2"
    assert by_column[(4, "email")] == "ana@example.org is already used on row 2"


def test_row_numbers_match_the_spreadsheet() -> None:
    """Blank lines count as rows; a quoted cell with a line break is still one row."""
    text = 'name,role,phone,email,active\n"Ana\nPérez",nurse,6175550101,,true\n\nBo,nurse,bad,,true\n'
    result = parse_staff_csv(text)
    assert result.errors == (RowError(4, "phone", "'bad' is not a phone number"),)


def test_wrong_number_of_cells() -> None:
    result = parse_staff_csv("name,role,phone,email,active\nAna,nurse,6175550101\nBo,nurse,6175550102,,1,x\n")
    assert result.errors == (
        RowError(2, "", "expected 5 cells, found 3"),
        RowError(3, "", "expected 5 cells, found 6"),
    )


def test_broken_quotes() -> None:
    result = parse_staff_csv('name,role,phone,email,active\nAna,nurse,6175550101,,true\n"Bo"x,nurse,1,,1\n')
    assert [(e.row, e.column) for e in result.errors] == [(3, "")]
    assert "stray quote" in result.errors[0].reason


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("617-555-0101", "+16175550101"), ("+1 (617) 555-0101", "+16175550101"), ("+33 1 42 68 53 00", "+33142685300")],
)
def test_normalize_phone(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", ["", "12", "555-0101", "617-555-010", "call me"])
def test_normalize_phone_rejects(raw: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - reason wording is checked elsewhere
        normalize_phone(raw)


# --- rotations --------------------------------------------------------------------------------------------------


def test_directory_maps_phones_and_emails_of_active_staff() -> None:
    directory = staff_directory(staff())
    assert directory["ana@example.org"] == "+16175550101"
    assert directory["+16175550102"] == "+16175550102"
    assert "+16175550109" not in directory
    assert "old@example.org" not in directory


def test_rotations_parse() -> None:
    result = parse_rotations_csv(ROTATIONS, staff_directory(staff()))
    assert result.ok, result.errors
    nurses, physicians = result.rows
    assert (nurses.row, nurses.name, nurses.tier, nurses.zone, nurses.shift) == (
        2,
        "Nurses days",
        1,
        "America/New_York",
        "daily",
    )
    assert nurses.handoff_time == time(7)
    assert nurses.handoff_weekday is None
    assert nurses.start_date == date(2026, 3, 6)
    assert nurses.members == ("+16175550101", "+16175550102", "+16175550103")
    assert (physicians.handoff_time, physicians.handoff_weekday) == (time(8), 0)
    rotations = [nurses.to_rotation("r1"), physicians.to_rotation("r2")]
    # 2026-03-08 12:00 UTC is after the 07:00 EDT hand-off on spring-forward day: Cy's turn
    assert on_call(rotations, [], datetime(2026, 3, 8, 12, tzinfo=UTC)) == {
        1: ("+16175550103",),
        3: ("+442079460958",),
    }


def test_rotation_errors() -> None:
    text = f"""{",".join(ROTATION_COLUMNS)}
Nurses,0,America/Boston,hourly,25:00,,03/08/2026,
Weekly,1,UTC,weekly,7:00,Thu,2026-03-02,6175550101
Daily,1,UTC,daily,7:00,2,2026-03-02,6175550101;old@example.org;nobody@example.org;12
nurses,2,UTC,daily,07:00,,2026-03-02,6175550101
"""
    result = parse_rotations_csv(text, staff_directory(staff()))
    assert result.rows == ()
    reasons = {(e.row, e.column): e.reason for e in result.errors}
    assert set(reasons) >= {
        (2, "tier"),
        (2, "zone"),
        (2, "shift"),
        (2, "handoff_time"),
        (2, "start_date"),
        (2, "members"),
        (3, "start_date"),
        (4, "handoff_weekday"),
        (4, "members"),
        (5, "rotation"),
    }
    assert reasons[(2, "start_date")] == "'03/08/2026' is not a date; use YYYY-MM-DD, e.g. 2026-03-02"
    assert reasons[(3, "start_date")] == "2026-03-02 is a Monday, but weekly hand-offs are on Thursday"
    assert reasons[(5, "rotation")] == "'nurses' is already defined on row 2"
    member_reasons = [e.reason for e in result.errors if (e.row, e.column) == (4, "members")]
    assert member_reasons == [
        "'old@example.org' matches no active staff member",
        "'nobody@example.org' matches no active staff member",
        "'12' is not a valid phone number",
    ]
    assert [e.row for e in result.errors] == sorted(e.row for e in result.errors)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("07:00", time(7)),
        ("7:30", time(7, 30)),
        ("23:59", time(23, 59)),
        ("12 AM", time(0)),
        ("12:15 pm", time(12, 15)),
        ("7 p.m.", time(19)),
    ],
)
def test_handoff_time_formats(cell: str, expected: time) -> None:
    text = f"{','.join(ROTATION_COLUMNS)}\nN,1,UTC,daily,{cell},,2026-03-02,6175550101\n"
    result = parse_rotations_csv(text, {"+16175550101": "s1"})
    assert result.ok, result.errors
    assert result.rows[0].handoff_time == expected


@pytest.mark.parametrize(("cell", "expected"), [("0", 0), ("6", 6), ("sun", 6), ("Wednesday", 2)])
def test_weekday_formats(cell: str, expected: int) -> None:
    day = date(2026, 3, 2 + expected)
    text = f"{','.join(ROTATION_COLUMNS)}\nN,1,UTC,weekly,07:00,{cell},{day.isoformat()},6175550101\n"
    result = parse_rotations_csv(text, {"+16175550101": "s1"})
    assert result.ok, result.errors
    assert result.rows[0].handoff_weekday == expected


@pytest.mark.parametrize("cell", ["7", "13:00 pm", "7:60", "noon", "-1:00"])
def test_bad_times(cell: str) -> None:
    text = f"{','.join(ROTATION_COLUMNS)}\nN,1,UTC,daily,{cell},,2026-03-02,6175550101\n"
    result = parse_rotations_csv(text, {"+16175550101": "s1"})
    assert [(e.row, e.column) for e in result.errors] == [(2, "handoff_time")]


@pytest.mark.parametrize("cell", ["7", "x", "mo", "-1"])
def test_bad_weekdays(cell: str) -> None:
    text = f"{','.join(ROTATION_COLUMNS)}\nN,1,UTC,weekly,07:00,{cell},2026-03-02,6175550101\n"
    result = parse_rotations_csv(text, {"+16175550101": "s1"})
    assert [(e.row, e.column) for e in result.errors] == [(2, "handoff_weekday")]

"""On-call rotations and overrides, including both 2026 US DST days and Europe/Berlin."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from triage.oncall import (
    FieldError,
    Override,
    Rotation,
    current_shift,
    local_to_utc,
    on_call,
    validate_override,
    validate_rotation,
)

NY = "America/New_York"
BERLIN = "Europe/Berlin"
H = timedelta(hours=1)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def daily(handoff: time, zone: str = NY, start: date = date(2026, 1, 5), **kw: object) -> Rotation:
    fields: dict[str, object] = {
        "id": "r1",
        "name": "Nurses",
        "tier": 1,
        "zone": zone,
        "shift": "daily",
        "handoff_time": handoff,
        "start": start,
        "members": ("ana", "bo", "cy"),
    }
    fields.update(kw)
    return Rotation(**fields)  # type: ignore[arg-type]


# --- resolving a local hand-off time ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "wall", "zone", "expected"),
    [
        # ordinary days
        (date(2026, 3, 7), time(7), NY, utc(2026, 3, 7, 12)),
        (date(2026, 3, 9), time(7), NY, utc(2026, 3, 9, 11)),
        # spring forward, America/New_York 2026-03-08: 02:00 EST -> 03:00 EDT (07:00 UTC)
        (date(2026, 3, 8), time(7), NY, utc(2026, 3, 8, 11)),
        (date(2026, 3, 8), time(2, 30), NY, utc(2026, 3, 8, 7)),  # in the gap: at 03:00 EDT
        (date(2026, 3, 8), time(2, 0), NY, utc(2026, 3, 8, 7)),  # gap start: same
        (date(2026, 3, 8), time(1, 59), NY, utc(2026, 3, 8, 6, 59)),
        # fall back, America/New_York 2026-11-01: 02:00 EDT -> 01:00 EST (06:00 UTC)
        (date(2026, 11, 1), time(7), NY, utc(2026, 11, 1, 12)),
        (date(2026, 11, 1), time(1, 30), NY, utc(2026, 11, 1, 5, 30)),  # fold: first occurrence (EDT)
        (date(2026, 11, 1), time(2, 30), NY, utc(2026, 11, 1, 7, 30)),  # after the fold, EST
        # Europe/Berlin 2026-03-29: 02:00 CET -> 03:00 CEST (01:00 UTC)
        (date(2026, 3, 29), time(2, 30), BERLIN, utc(2026, 3, 29, 1)),
        (date(2026, 3, 29), time(7), BERLIN, utc(2026, 3, 29, 5)),
        # Europe/Berlin 2026-10-25: 03:00 CEST -> 02:00 CET (01:00 UTC); 02:30 happens twice
        (date(2026, 10, 25), time(2, 30), BERLIN, utc(2026, 10, 25, 0, 30)),
        (date(2026, 10, 25), time(7), BERLIN, utc(2026, 10, 25, 6)),
        # a 30-minute DST shift: Australia/Lord_Howe 2026-10-04 02:00 -> 02:30 (+11, 15:30 UTC the day before)
        (date(2026, 10, 4), time(2, 15), "Australia/Lord_Howe", utc(2026, 10, 3, 15, 30)),
    ],
)
def test_local_to_utc(day: date, wall: time, zone: str, expected: datetime) -> None:
    assert local_to_utc(day, wall, ZoneInfo(zone)) == expected


# --- daily shifts across DST ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "handoff", "at", "start", "end", "hours"),
    [
        # New York spring 2026-03-08, 07:00 hand-off: the shift that covers 03:00 local is 23 h
        (NY, time(7), utc(2026, 3, 8, 8), utc(2026, 3, 7, 12), utc(2026, 3, 8, 11), 23),
        (NY, time(7), utc(2026, 3, 8, 11), utc(2026, 3, 8, 11), utc(2026, 3, 9, 11), 24),
        # New York fall 2026-11-01, 07:00 hand-off: 25 h
        (NY, time(7), utc(2026, 11, 1, 6), utc(2026, 10, 31, 11), utc(2026, 11, 1, 12), 25),
        (NY, time(7), utc(2026, 11, 1, 12), utc(2026, 11, 1, 12), utc(2026, 11, 2, 12), 24),
        # New York spring, 02:30 hand-off (in the gap): hand-off at 03:00 EDT; both neighbours are 23.5 h
        (NY, time(2, 30), utc(2026, 3, 8, 6, 59), utc(2026, 3, 7, 7, 30), utc(2026, 3, 8, 7), 23.5),
        (NY, time(2, 30), utc(2026, 3, 8, 7), utc(2026, 3, 8, 7), utc(2026, 3, 9, 6, 30), 23.5),
        # New York fall, 02:30 hand-off (after the fold): 25 h
        (NY, time(2, 30), utc(2026, 11, 1, 6), utc(2026, 10, 31, 6, 30), utc(2026, 11, 1, 7, 30), 25),
        # New York fall, 01:30 hand-off (in the fold): first occurrence, then a 25 h shift
        (NY, time(1, 30), utc(2026, 11, 1, 5), utc(2026, 10, 31, 5, 30), utc(2026, 11, 1, 5, 30), 24),
        (NY, time(1, 30), utc(2026, 11, 1, 6), utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30), 25),
        # Berlin spring 2026-03-29
        (BERLIN, time(7), utc(2026, 3, 29, 4), utc(2026, 3, 28, 6), utc(2026, 3, 29, 5), 23),
        (BERLIN, time(2, 30), utc(2026, 3, 29, 0, 59), utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1), 23.5),
        (BERLIN, time(2, 30), utc(2026, 3, 29, 1), utc(2026, 3, 29, 1), utc(2026, 3, 30, 0, 30), 23.5),
        # Berlin fall 2026-10-25: 02:30 hand-off at the first 02:30 (CEST), then 25 h
        (BERLIN, time(7), utc(2026, 10, 25, 5), utc(2026, 10, 24, 5), utc(2026, 10, 25, 6), 25),
        (BERLIN, time(2, 30), utc(2026, 10, 25, 0), utc(2026, 10, 24, 0, 30), utc(2026, 10, 25, 0, 30), 24),
        (BERLIN, time(2, 30), utc(2026, 10, 25, 1), utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30), 25),
    ],
)
def test_daily_shift_across_dst(
    zone: str, handoff: time, at: datetime, start: datetime, end: datetime, hours: float
) -> None:
    shift = current_shift(daily(handoff, zone), at)
    assert shift is not None
    member, shift_start, shift_end = shift
    assert (shift_start, shift_end) == (start, end)
    assert shift_end - shift_start == timedelta(hours=hours)
    assert shift_start.tzinfo is UTC
    assert member in ("ana", "bo", "cy")


@pytest.mark.parametrize("zone", [NY, BERLIN, "Australia/Lord_Howe", "UTC"])
@pytest.mark.parametrize("handoff", [time(7), time(2, 30), time(1, 30), time(0)])
def test_shifts_tile_the_whole_year(zone: str, handoff: time) -> None:
    """Every instant of 2026 is in exactly one shift, shifts abut, members take turns in order."""
    rotation = daily(handoff, zone, start=date(2025, 12, 20))
    at = utc(2026, 1, 1)
    shift = current_shift(rotation, at)
    assert shift is not None
    order = rotation.members
    while at < utc(2027, 1, 1):
        assert shift.start_utc <= at < shift.end_utc
        following = current_shift(rotation, shift.end_utc)
        assert following is not None
        assert following.start_utc == shift.end_utc
        assert following.member == order[(order.index(shift.member) + 1) % len(order)]
        assert timedelta(hours=22) <= following.end_utc - following.start_utc <= timedelta(hours=26)
        at += timedelta(hours=7)
        now = current_shift(rotation, at)
        assert now is not None
        shift = now


def test_members_take_turns_from_the_start_date() -> None:
    rotation = daily(time(7), NY, start=date(2026, 3, 6))
    names = [current_shift(rotation, utc(2026, 3, d, 16)) for d in (6, 7, 8, 9, 10)]
    assert [s.member for s in names if s] == ["ana", "bo", "cy", "ana", "bo"]


def test_handoff_instant_belongs_to_the_new_shift() -> None:
    rotation = daily(time(7), NY, start=date(2026, 3, 6))
    before = current_shift(rotation, utc(2026, 3, 8, 11) - timedelta(microseconds=1))
    at = current_shift(rotation, utc(2026, 3, 8, 11))
    assert before is not None
    assert at is not None
    assert (before.member, at.member) == ("bo", "cy")


def test_before_the_first_handoff_nobody_is_on_call() -> None:
    rotation = daily(time(7), NY, start=date(2026, 3, 6))
    assert current_shift(rotation, utc(2026, 3, 6, 11, 59)) is None
    assert current_shift(rotation, utc(2025, 1, 1)) is None
    assert current_shift(rotation, utc(2026, 3, 6, 12)) is not None
    assert on_call([rotation], [], utc(2026, 3, 1)) == {1: ()}


def test_at_may_be_in_any_zone_but_not_naive() -> None:
    rotation = daily(time(7), NY)
    at_tokyo = datetime(2026, 3, 9, 0, 30, tzinfo=ZoneInfo("Asia/Tokyo"))  # 2026-03-08 15:30 UTC
    assert current_shift(rotation, at_tokyo) == current_shift(rotation, utc(2026, 3, 8, 15, 30))
    with pytest.raises(ValueError, match="timezone-aware"):
        current_shift(rotation, datetime(2026, 3, 8, 12))  # noqa: DTZ001 - naive on purpose
    with pytest.raises(ValueError, match="timezone-aware"):
        on_call([rotation], [], datetime(2026, 3, 8, 12))  # noqa: DTZ001 - naive on purpose


# --- weekly shifts ----------------------------------------------------------------------------------------------


def weekly(handoff: time = time(8), zone: str = NY) -> Rotation:
    return Rotation(
        id="w",
        name="Physicians",
        tier=3,
        zone=zone,
        shift="weekly",
        handoff_time=handoff,
        handoff_weekday=0,
        start=date(2026, 3, 2),  # a Monday
        members=("dr_a", "dr_b"),
    )


def test_weekly_shift_over_spring_forward_is_167_hours() -> None:
    shift = current_shift(weekly(), utc(2026, 3, 8, 12))
    assert shift == ("dr_a", utc(2026, 3, 2, 13), utc(2026, 3, 9, 12))
    assert shift is not None
    assert shift.end_utc - shift.start_utc == timedelta(hours=167)


def test_weekly_shift_over_fall_back_is_169_hours() -> None:
    shift = current_shift(weekly(), utc(2026, 11, 1, 12))
    assert shift is not None
    assert shift.start_utc == utc(2026, 10, 26, 12)
    assert shift.end_utc == utc(2026, 11, 2, 13)
    assert shift.end_utc - shift.start_utc == timedelta(hours=169)
    # 2026-03-02 + 34 weeks = 2026-10-26: an even week, so dr_a again
    assert shift.member == "dr_a"


def test_weekly_rotation_alternates() -> None:
    rotation = weekly()
    members = [current_shift(rotation, utc(2026, 3, 4) + timedelta(weeks=w)) for w in range(4)]
    assert [s.member for s in members if s] == ["dr_a", "dr_b", "dr_a", "dr_b"]


# --- validation ---------------------------------------------------------------------------------------------------


def test_valid_rotations_have_no_errors() -> None:
    assert validate_rotation(daily(time(7))) == []
    assert validate_rotation(weekly()) == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"tier": 0}, "tier"),
        ({"zone": "America/Nowhere"}, "zone"),
        ({"zone": "EST5EDT/../x"}, "zone"),
        ({"zone": ""}, "zone"),
        ({"shift": "hourly"}, "shift"),
        ({"members": ()}, "members"),
        ({"members": ("ana", " ")}, "members"),
        ({"handoff_weekday": 2}, "handoff_weekday"),  # daily with a weekday
        ({"shift": "weekly"}, "handoff_weekday"),  # weekly without one
        ({"shift": "weekly", "handoff_weekday": 7}, "handoff_weekday"),
        ({"shift": "weekly", "handoff_weekday": 3}, "start"),  # 2026-01-05 is a Monday
        ({"id": ""}, "id"),
        ({"handoff_time": time(7, tzinfo=UTC)}, "handoff_time"),
    ],
)
def test_invalid_rotation(changes: dict[str, Any], field: str) -> None:
    rotation = replace(daily(time(7)), **changes)
    errors = validate_rotation(rotation)
    assert field in [e.field for e in errors]
    with pytest.raises(ValueError, match=field):
        current_shift(rotation, utc(2026, 3, 1))


def test_weekday_mismatch_is_explained() -> None:
    errors = validate_rotation(daily(time(7), shift="weekly", handoff_weekday=3))
    assert errors == [FieldError("start", "2026-01-05 is a Monday, but weekly hand-offs are on Thursday")]


def test_invalid_override() -> None:
    now = utc(2026, 3, 8)
    assert validate_override(Override(1, "x", now, now + H)) == []
    fields = {e.field for e in validate_override(Override(0, "", now, now, replaces="ana"))}
    assert fields == {"tier", "staff_id", "end_utc"}
    assert [e.field for e in validate_override(Override(1, "ana", now, now + H, replaces="ana"))] == ["replaces"]
    naive = datetime(2026, 3, 8)  # noqa: DTZ001 - naive on purpose
    assert [e.field for e in validate_override(Override(1, "x", naive, now))] == ["start_utc"]
    with pytest.raises(ValueError, match="override"):
        on_call([], [Override(1, "x", now, now)], now)


# --- on_call ----------------------------------------------------------------------------------------------------


AT = utc(2026, 3, 10, 15)  # daily(start 2026-01-05): day 64 -> 64 % 3 == 1 -> "bo"; weekly -> dr_b


def test_on_call_per_tier() -> None:
    backup = daily(time(7), id="r2", tier=2, members=("dee", "eve"))
    assert on_call([weekly(), daily(time(7)), backup], [], AT) == {1: ("bo",), 2: ("dee",), 3: ("dr_b",)}


def test_two_rotations_in_one_tier_both_page_once_each() -> None:
    evening = daily(time(7), id="r2", members=("ann", "zed"))  # index 64 % 2 == 0 -> "ann"
    assert on_call([daily(time(7)), evening], [], AT) == {1: ("bo", "ann")}
    also_bo = daily(time(7), id="r3", members=("bo",))
    assert on_call([daily(time(7)), also_bo], [], AT) == {1: ("bo",)}


def test_replace_override_wins_inside_its_window_only() -> None:
    cover = Override(1, "fay", AT - H, AT + H, replaces="bo")
    assert on_call([daily(time(7))], [cover], AT) == {1: ("fay",)}
    assert on_call([daily(time(7))], [cover], AT + H) == {1: ("bo",)}  # end is exclusive
    assert on_call([daily(time(7))], [cover], AT - H) == {1: ("fay",)}  # start is inclusive


def test_replace_override_of_someone_not_on_call_does_nothing() -> None:
    cover = Override(1, "fay", AT - H, AT + H, replaces="ana")
    assert on_call([daily(time(7))], [cover], AT) == {1: ("bo",)}


def test_add_override_and_new_tier() -> None:
    extra = Override(1, "fay", AT - H, AT + H)
    physician = Override(4, "dr_z", AT - H, AT + H)
    assert on_call([daily(time(7))], [extra, physician], AT) == {1: ("bo", "fay"), 4: ("dr_z",)}


def test_overrides_chain_in_start_order() -> None:
    first = Override(1, "fay", AT - 2 * H, AT + H, replaces="bo")
    second = Override(1, "gus", AT - H, AT + H, replaces="fay")
    assert on_call([daily(time(7))], [second, first], AT) == {1: ("gus",)}


def test_replacing_with_someone_already_on_call_does_not_duplicate() -> None:
    extra = Override(1, "fay", AT - H, AT + H)
    cover = Override(1, "fay", AT - H / 2, AT + H, replaces="bo")
    assert on_call([daily(time(7))], [extra, cover], AT) == {1: ("fay",)}


def test_on_call_across_spring_forward_with_override() -> None:
    rotation = daily(time(2, 30), NY, start=date(2026, 3, 7))  # ana from 03-07, bo from 03-08 03:00 EDT
    cover = Override(1, "fay", utc(2026, 3, 8, 6), utc(2026, 3, 8, 8), replaces="bo")
    assert on_call([rotation], [cover], utc(2026, 3, 8, 6, 59)) == {1: ("ana",)}
    assert on_call([rotation], [cover], utc(2026, 3, 8, 7)) == {1: ("fay",)}
    assert on_call([rotation], [cover], utc(2026, 3, 8, 8)) == {1: ("bo",)}

"""On-call schedules: rotations, overrides, and who is on call at an instant.

Pure: no I/O, no clock. Every function takes the instant it is asked about (`at`), which must be
timezone-aware; results are instants in UTC.

Hand-offs happen at a local wall-clock time in the rotation's IANA zone, so a daily shift that spans a
DST change lasts 23 h or 25 h. Local times that do not exist (the spring-forward gap) hand off at the first
valid instant after them (02:30 on 2026-03-08 in America/New_York hands off at 03:00 EDT); local times
that happen twice (the fall-back fold) hand off at the first occurrence (fold=0).

Modelled on GoAlert's rotations and overrides.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ShiftKind = Literal["daily", "weekly"]
SHIFT_KINDS: tuple[ShiftKind, ...] = ("daily", "weekly")

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one field of a value, in words an administrator can act on."""

    field: str
    reason: str


@dataclass(frozen=True, slots=True)
class Rotation:
    """Members take turns, in order, handing off at `handoff_time` local time in `zone`.

    `start` is the local date of the first hand-off: members[0] is on call from `start` at
    `handoff_time` until the next hand-off, then members[1], and so on, wrapping around.
    For a weekly rotation, `start` must fall on `handoff_weekday` (0 = Monday ... 6 = Sunday);
    for a daily rotation, `handoff_weekday` must be None.
    """

    id: str
    name: str
    tier: int
    zone: str
    shift: ShiftKind
    handoff_time: time
    start: date
    members: tuple[str, ...]
    handoff_weekday: int | None = None


@dataclass(frozen=True, slots=True)
class Override:
    """Inside [start_utc, end_utc), `staff_id` is on call in `tier`.

    With `replaces`, `staff_id` takes that person's place, but only while that person is actually on call in
    the tier (GoAlert's "replace" override); otherwise the override has no effect. Without `replaces`,
    `staff_id` is added to whoever is on call in the tier (GoAlert's "add" override).
    """

    tier: int
    staff_id: str
    start_utc: datetime
    end_utc: datetime
    replaces: str | None = None


class Shift(NamedTuple):
    """One member's turn: [start_utc, end_utc). A NamedTuple, so `member, start, end = shift` works."""

    member: str
    start_utc: datetime
    end_utc: datetime


def require_aware(value: datetime, name: str = "at") -> datetime:
    """Return `value` in UTC; raise ValueError if it is naive."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def load_zone(name: str) -> ZoneInfo:
    """The IANA zone called `name`; ValueError if there is none."""
    if not name or name != name.strip():
        raise ValueError(f"unknown time zone {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}; use an IANA name such as America/New_York") from exc


def local_to_utc(day: date, wall: time, zone: tzinfo) -> datetime:
    """The UTC instant at which the local clock in `zone` reads `wall` on `day`.

    In a gap (spring forward) this is the first valid instant after `wall`, i.e. the transition itself;
    in a fold (fall back) it is the first occurrence.
    """
    naive = datetime.combine(day, wall.replace(tzinfo=None, fold=0))
    first = naive.replace(tzinfo=zone, fold=0)
    utc = first.astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) == naive:
        return utc
    # `naive` is in a gap. With fold=0 zoneinfo applies the offset from before the transition, which lands
    # after the transition; with fold=1 it applies the offset from after, which lands before it. The
    # transition is the first instant in between at which the later offset is in force.
    lo = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    hi = utc
    if lo > hi:  # pragma: no cover - defensive, zoneinfo always orders them this way for gaps
        lo, hi = hi, lo
    after = hi.astimezone(zone).utcoffset()
    lo_s, hi_s = 0, int((hi - lo).total_seconds())
    while lo_s < hi_s:
        mid = (lo_s + hi_s) // 2
        if (lo + timedelta(seconds=mid)).astimezone(zone).utcoffset() == after:
            hi_s = mid
        else:
            lo_s = mid + 1
    return lo + timedelta(seconds=lo_s)


def validate_rotation(rotation: Rotation) -> list[FieldError]:
    """Every problem with `rotation`, or [] if it can be used."""
    errors: list[FieldError] = []
    if not rotation.id.strip():
        errors.append(FieldError("id", "must not be empty"))
    if not rotation.name.strip():
        errors.append(FieldError("name", "must not be empty"))
    if isinstance(rotation.tier, bool) or not isinstance(rotation.tier, int) or rotation.tier < 1:
        errors.append(FieldError("tier", "must be a whole number, 1 or more"))
    try:
        load_zone(rotation.zone)
    except ValueError as exc:
        errors.append(FieldError("zone", str(exc)))
    if rotation.shift not in SHIFT_KINDS:
        errors.append(FieldError("shift", "must be 'daily' or 'weekly'"))
    if rotation.handoff_time.tzinfo is not None:
        errors.append(FieldError("handoff_time", "must be a local wall-clock time without a time zone"))
    if rotation.shift == "weekly":
        wd = rotation.handoff_weekday
        if wd is None or isinstance(wd, bool) or not 0 <= wd <= 6:
            errors.append(FieldError("handoff_weekday", "weekly shifts need a weekday, 0 (Monday) to 6 (Sunday)"))
        elif rotation.start.weekday() != wd:
            errors.append(
                FieldError(
                    "start",
                    f"{rotation.start.isoformat()} is a {WEEKDAY_NAMES[rotation.start.weekday()]}, "
                    f"but weekly hand-offs are on {WEEKDAY_NAMES[wd]}",
                )
            )
    elif rotation.shift == "daily" and rotation.handoff_weekday is not None:
        errors.append(FieldError("handoff_weekday", "only weekly shifts have a hand-off weekday; leave it empty"))
    if not rotation.members:
        errors.append(FieldError("members", "needs at least one member"))
    elif any(not m.strip() for m in rotation.members):
        errors.append(FieldError("members", "member ids must not be empty"))
    return errors


def validate_override(override: Override) -> list[FieldError]:
    """Every problem with `override`, or [] if it can be used."""
    errors: list[FieldError] = []
    if isinstance(override.tier, bool) or not isinstance(override.tier, int) or override.tier < 1:
        errors.append(FieldError("tier", "must be a whole number, 1 or more"))
    if not override.staff_id.strip():
        errors.append(FieldError("staff_id", "must not be empty"))
    if override.replaces is not None and not override.replaces.strip():
        errors.append(FieldError("replaces", "must be a staff id or None"))
    elif override.replaces == override.staff_id:
        errors.append(FieldError("replaces", "a person cannot replace themselves"))
    aware = True
    for name, value in (("start_utc", override.start_utc), ("end_utc", override.end_utc)):
        if value.tzinfo is None or value.utcoffset() is None:
            errors.append(FieldError(name, "must be timezone-aware"))
            aware = False
    if aware and override.end_utc <= override.start_utc:
        errors.append(FieldError("end_utc", "must be after start_utc"))
    return errors


def _check(errors: list[FieldError], what: str) -> None:
    if errors:
        detail = "; ".join(f"{e.field}: {e.reason}" for e in errors)
        raise ValueError(f"invalid {what}: {detail}")


def _handoff(rotation: Rotation, zone: ZoneInfo, index: int) -> datetime:
    step = 7 if rotation.shift == "weekly" else 1
    return local_to_utc(rotation.start + timedelta(days=step * index), rotation.handoff_time, zone)


def current_shift(rotation: Rotation, at: datetime) -> Shift | None:
    """The shift of `rotation` in force at `at`, or None before the rotation's first hand-off.

    Raises ValueError if `at` is naive or the rotation is invalid (see `validate_rotation`).
    """
    at_utc = require_aware(at)
    _check(validate_rotation(rotation), f"rotation {rotation.id!r}")
    zone = load_zone(rotation.zone)
    step = 7 if rotation.shift == "weekly" else 1
    local_day = at_utc.astimezone(zone).date()
    index = (local_day - rotation.start).days // step
    # The local date gives the right index or one off; walk to the shift containing `at`.
    while at_utc < _handoff(rotation, zone, index):
        index -= 1
        if index < 0:
            return None
    while at_utc >= _handoff(rotation, zone, index + 1):
        index += 1
    if index < 0:
        return None
    member = rotation.members[index % len(rotation.members)]
    return Shift(member, _handoff(rotation, zone, index), _handoff(rotation, zone, index + 1))


def on_call(
    rotations: Iterable[Rotation],
    overrides: Iterable[Override],
    at: datetime,
) -> dict[int, tuple[str, ...]]:
    """Who is on call in each tier at `at`, in rotation order, without duplicates.

    Every tier that has a rotation or an active override appears as a key, with an empty tuple when nobody is
    on call (e.g. before the rotation starts, or an override replaced the only person). Overrides active at
    `at` (start_utc <= at < end_utc) are applied in order of start, then as given, so an override of an
    override works. Raises ValueError if `at` is naive or a rotation or override is invalid.
    """
    at_utc = require_aware(at)
    overrides = tuple(overrides)
    for o in overrides:
        _check(validate_override(o), f"override for {o.staff_id!r}")
    tiers: dict[int, list[str]] = {}
    for rotation in rotations:
        people = tiers.setdefault(rotation.tier, [])
        shift = current_shift(rotation, at_utc)
        if shift is not None and shift.member not in people:
            people.append(shift.member)
    active = sorted(
        (o for o in overrides if o.start_utc <= at_utc < o.end_utc),
        key=lambda o: o.start_utc,
    )
    for o in active:
        people = tiers.setdefault(o.tier, [])
        if o.replaces is None:
            if o.staff_id not in people:
                people.append(o.staff_id)
        elif o.replaces in people:
            i = people.index(o.replaces)
            if o.staff_id in people:
                del people[i]
            else:
                people[i] = o.staff_id
    return {tier: tuple(people) for tier, people in sorted(tiers.items())}

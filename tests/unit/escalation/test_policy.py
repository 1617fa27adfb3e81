"""Escalation policies: validation and the page plan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from triage.policy import (
    MAX_REPEAT,
    PlannedPage,
    Policy,
    Step,
    Target,
    default_policy,
    exhausted_at,
    next_position,
    plan,
    validate_policy,
)

T0 = datetime(2026, 3, 8, 6, 58, tzinfo=UTC)  # two minutes before New York springs forward
S = timedelta(seconds=1)


def summary(pages: list[PlannedPage]) -> list[tuple[int, int, int, str, str, str]]:
    return [
        (p.round, p.step_index, int((p.due_at - T0).total_seconds()), p.target.kind, p.target.value, p.channel)
        for p in pages
    ]


def test_default_policy_is_the_documented_example() -> None:
    policy = default_policy()
    assert validate_policy(policy) == []
    assert summary(plan(policy, T0))[:4] == [
        (0, 0, 0, "tier", "1", "sms"),
        (0, 1, 300, "tier", "1", "voice"),
        (0, 1, 300, "tier", "2", "sms"),
        (0, 2, 600, "tier", "3", "voice"),
    ]


def test_plan_repeats_whole_policy() -> None:
    pages = plan(default_policy(), T0)
    assert len(pages) == 4 * 3
    assert [p.round for p in pages] == [0] * 4 + [1] * 4 + [2] * 4
    assert summary(pages)[4] == (1, 0, 900, "tier", "1", "sms")
    assert pages[-1].due_at == T0 + 2 * 900 * S + 600 * S
    assert [p.due_at for p in pages] == sorted(p.due_at for p in pages)
    assert exhausted_at(default_policy(), T0) == T0 + 2700 * S


def test_emergency_starts_further_down_and_pages_at_once() -> None:
    pages = summary(plan(default_policy(), T0, start_step=2))
    assert pages[0] == (0, 2, 0, "tier", "3", "voice")
    assert pages[1] == (1, 0, 300, "tier", "1", "sms")
    assert len(pages) == 1 + 4 * 2


def test_escalate_now_continues_from_the_next_position() -> None:
    policy = default_policy()
    assert next_position(policy, 0, 0) == (1, 0)
    assert next_position(policy, 2, 0) == (0, 1)
    assert next_position(policy, 2, 2) is None
    step, round_ = next_position(policy, 2, 1) or (-1, -1)
    pages = plan(policy, T0, step, start_round=round_)
    assert {p.round for p in pages} == {2}
    assert pages[0].due_at == T0


def test_due_at_is_utc_whatever_the_zone_of_started_at() -> None:
    started = T0.astimezone(ZoneInfo("America/New_York"))
    pages = plan(default_policy(), started)
    assert all(p.due_at.tzinfo is UTC for p in pages)
    assert pages[1].due_at == datetime(2026, 3, 8, 7, 3, tzinfo=UTC)  # elapsed time, not wall-clock time


def test_both_channels_and_per_target_channels() -> None:
    policy = Policy(
        "p",
        "Both",
        (Step(60, (Target.staff("ana"), Target.phone("+16175550123", "sms")), "both"),),
    )
    assert summary(plan(policy, T0)) == [
        (0, 0, 0, "staff", "ana", "sms"),
        (0, 0, 0, "staff", "ana", "voice"),
        (0, 0, 0, "phone", "+16175550123", "sms"),
    ]


def test_zero_delay_steps_fire_together_in_policy_order() -> None:
    policy = Policy("p", "Z", (Step(0, (Target.tier(1),)), Step(60, (Target.tier(2),))), repeat=1)
    assert [(r, i, d) for r, i, d, *_ in summary(plan(policy, T0))] == [(0, 0, 0), (0, 1, 0), (1, 0, 60), (1, 1, 60)]


def test_plan_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        plan(default_policy(), datetime(2026, 3, 8))  # noqa: DTZ001 - naive on purpose
    with pytest.raises(ValueError, match="start_step"):
        plan(default_policy(), T0, start_step=3)
    with pytest.raises(ValueError, match="start_step"):
        plan(default_policy(), T0, start_step=-1)
    with pytest.raises(ValueError, match="start_round"):
        plan(default_policy(), T0, start_round=3)
    with pytest.raises(ValueError, match="invalid policy"):
        plan(Policy("p", "empty", ()), T0)


def fields(policy: Policy) -> list[str]:
    return [e.field for e in validate_policy(policy)]


def test_validation_reports_every_field() -> None:
    ok = Step(60, (Target.tier(1),))
    assert fields(Policy("p", "n", ())) == ["steps"]
    assert fields(Policy("p", "n", (ok,), repeat=-1)) == ["repeat"]
    assert fields(Policy("p", "n", (ok,), repeat=MAX_REPEAT + 1)) == ["repeat"]
    assert fields(Policy("", " ", (ok,))) == ["id", "name"]
    assert fields(Policy("p", "n", (Step(-1, (Target.tier(1),)),))) == ["steps[0].delay_seconds"]
    assert fields(Policy("p", "n", (ok, Step(5, ())))) == ["steps[1].targets"]
    bad_targets = Step(
        5,
        (
            Target("tier", "0"),
            Target("tier", "one"),
            Target("phone", "617-555-0123"),
            Target("staff", " "),
            Target("team", "x"),  # type: ignore[arg-type]
            Target("tier", "2", "fax"),  # type: ignore[arg-type]
        ),
        "pager",  # type: ignore[arg-type]
    )
    assert fields(Policy("p", "n", (bad_targets,))) == [
        "steps[0].channels",
        "steps[0].targets[0].value",
        "steps[0].targets[1].value",
        "steps[0].targets[2].value",
        "steps[0].targets[3].value",
        "steps[0].targets[4].kind",
        "steps[0].targets[5].channels",
    ]


def test_a_repeating_policy_needs_a_delay_somewhere() -> None:
    zero = Step(0, (Target.tier(1),))
    assert fields(Policy("p", "n", (zero, zero), repeat=1)) == ["steps"]
    assert fields(Policy("p", "n", (zero, zero), repeat=0)) == []

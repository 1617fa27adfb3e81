"""Escalation policies: who is paged, how, and when, until someone acknowledges.

Pure: no I/O, no clock. `plan` turns a policy and the instant an escalation started into the full list of
pages it would send if nobody ever acknowledged; the executor stores them as jobs and cancels every pending
one on ack or close.

Delay semantics (GoAlert's): `Step.delay_seconds` is how long that step waits for an acknowledgement before
the *next* step fires. The first step of a plan fires at `started_at`, whatever `start_step` is; step i+1
fires `steps[i].delay_seconds` after step i; after the last step the policy waits that step's delay, then
repeats from step 0, `repeat` more times. So each step owns its ack window, an emergency that starts at a
later step pages at once, and "escalate now" is `plan(policy, now, start_step=i + 1, start_round=r)`
(see `next_position`).

Tier targets are resolved to people (`oncall.on_call`) when a page is *due*, not when it is planned,
because a hand-off may happen in between.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from triage.oncall import FieldError, require_aware

TargetKind = Literal["tier", "staff", "phone"]
TARGET_KINDS: tuple[TargetKind, ...] = ("tier", "staff", "phone")
Channel = Literal["sms", "voice"]
Channels = Literal["sms", "voice", "both"]
CHANNELS: tuple[Channels, ...] = ("sms", "voice", "both")

MAX_REPEAT = 20
"""More rounds than this is a misconfiguration, not diligence: it would page one nurse all night."""

_E164 = re.compile(r"\+[1-9]\d{6,14}")
_TIER = re.compile(r"[1-9]\d{0,3}")


@dataclass(frozen=True, slots=True)
class Target:
    """Who a step pages: everyone on call in a tier ("1"), one staff member (their id), or a phone (E.164).

    `channels`, when set, overrides the step's channels for this target only (e.g. voice to tier 1 and SMS
    to tier 2 in the same step).
    """

    kind: TargetKind
    value: str
    channels: Channels | None = None

    @classmethod
    def tier(cls, tier: int, channels: Channels | None = None) -> Target:
        return cls("tier", str(tier), channels)

    @classmethod
    def staff(cls, staff_id: str, channels: Channels | None = None) -> Target:
        return cls("staff", staff_id, channels)

    @classmethod
    def phone(cls, e164: str, channels: Channels | None = None) -> Target:
        return cls("phone", e164, channels)


@dataclass(frozen=True, slots=True)
class Step:
    """Page `targets` by `channels`, then wait `delay_seconds` for an ack before the next step."""

    delay_seconds: int
    targets: tuple[Target, ...]
    channels: Channels = "sms"


@dataclass(frozen=True, slots=True)
class Policy:
    """Ordered steps, run once and then `repeat` more times (total rounds = 1 + repeat)."""

    id: str
    name: str
    steps: tuple[Step, ...]
    repeat: int = 0


@dataclass(frozen=True, slots=True)
class PlannedPage:
    """One page to send at `due_at` (UTC) unless the escalation has been acknowledged or closed by then."""

    step_index: int
    round: int
    due_at: datetime
    target: Target
    channel: Channel


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_policy(policy: Policy) -> list[FieldError]:
    """Every problem with `policy`, or [] if it can be used. Fields are paths like `steps[1].targets[0]`."""
    errors: list[FieldError] = []
    if not policy.id.strip():
        errors.append(FieldError("id", "must not be empty"))
    if not policy.name.strip():
        errors.append(FieldError("name", "must not be empty"))
    if not _is_int(policy.repeat) or policy.repeat < 0:
        errors.append(FieldError("repeat", "must be a whole number, 0 or more"))
    elif policy.repeat > MAX_REPEAT:
        errors.append(FieldError("repeat", f"must be at most {MAX_REPEAT}"))
    if not policy.steps:
        errors.append(FieldError("steps", "needs at least one step"))
    for i, step in enumerate(policy.steps):
        where = f"steps[{i}]"
        if not _is_int(step.delay_seconds) or step.delay_seconds < 0:
            errors.append(FieldError(f"{where}.delay_seconds", "must be a whole number of seconds, 0 or more"))
        if step.channels not in CHANNELS:
            errors.append(FieldError(f"{where}.channels", "must be 'sms', 'voice' or 'both'"))
        if not step.targets:
            errors.append(FieldError(f"{where}.targets", "needs at least one target"))
        for j, target in enumerate(step.targets):
            errors.extend(_target_errors(target, f"{where}.targets[{j}]"))
    if (
        policy.steps
        and _is_int(policy.repeat)
        and policy.repeat > 0
        and all(_is_int(s.delay_seconds) and s.delay_seconds == 0 for s in policy.steps)
    ):
        errors.append(
            FieldError(
                "steps",
                "a repeating policy needs at least one step with a delay, or every round fires at once",
            )
        )
    return errors


def _target_errors(target: Target, where: str) -> list[FieldError]:
    errors: list[FieldError] = []
    if target.kind not in TARGET_KINDS:
        errors.append(FieldError(f"{where}.kind", "must be 'tier', 'staff' or 'phone'"))
    elif target.kind == "tier" and not _TIER.fullmatch(target.value):
        errors.append(FieldError(f"{where}.value", "a tier is a whole number, 1 or more"))
    elif target.kind == "staff" and not target.value.strip():
        errors.append(FieldError(f"{where}.value", "a staff id must not be empty"))
    elif target.kind == "phone" and not _E164.fullmatch(target.value):
        errors.append(FieldError(f"{where}.value", "a phone number must be in E.164 form, e.g. +16175550123"))
    if target.channels is not None and target.channels not in CHANNELS:
        errors.append(FieldError(f"{where}.channels", "must be 'sms', 'voice', 'both' or None"))
    return errors


def _expand(channels: Channels) -> tuple[Channel, ...]:
    if channels == "both":
        return ("sms", "voice")
    return (channels,)


def plan(policy: Policy, started_at: datetime, start_step: int = 0, *, start_round: int = 0) -> list[PlannedPage]:
    """Every page the escalation sends if nobody acknowledges, in the order they fall due.

    The plan starts at `start_step` of round `start_round` (both 0-based), firing it at `started_at`; later
    rounds always run every step from 0. Pages due at the same instant keep policy order (step, target, SMS
    before voice). Raises ValueError if `started_at` is naive, the policy is invalid, or the start position is
    outside the policy.
    """
    at = require_aware(started_at, "started_at")
    errors = validate_policy(policy)
    if errors:
        raise ValueError("invalid policy: " + "; ".join(f"{e.field}: {e.reason}" for e in errors))
    if not _is_int(start_step) or not 0 <= start_step < len(policy.steps):
        raise ValueError(f"start_step must be 0 to {len(policy.steps) - 1}, got {start_step!r}")
    if not _is_int(start_round) or not 0 <= start_round <= policy.repeat:
        raise ValueError(f"start_round must be 0 to {policy.repeat}, got {start_round!r}")
    pages: list[PlannedPage] = []
    due = at
    first = start_step
    for round_ in range(start_round, policy.repeat + 1):
        for index in range(first, len(policy.steps)):
            step = policy.steps[index]
            for target in step.targets:
                for channel in _expand(target.channels or step.channels):
                    pages.append(PlannedPage(index, round_, due, target, channel))
            due += timedelta(seconds=step.delay_seconds)
        first = 0
    return pages


def next_position(policy: Policy, step_index: int, round_: int) -> tuple[int, int] | None:
    """The (step_index, round) after the given one, or None when the policy has run out of steps.

    For "escalate now" from (i, r): `step, round_ = next_position(policy, i, r)`, then
    `plan(policy, now, step, start_round=round_)`; when None, send the out-of-steps alert to the fallback.
    """
    if step_index + 1 < len(policy.steps):
        return (step_index + 1, round_)
    if round_ < policy.repeat:
        return (0, round_ + 1)
    return None


def exhausted_at(policy: Policy, started_at: datetime, start_step: int = 0, *, start_round: int = 0) -> datetime:
    """When the plan runs out (UTC): the last round's last ack window ends. Alert the fallback then."""
    pages = plan(policy, started_at, start_step, start_round=start_round)
    return pages[-1].due_at + timedelta(seconds=policy.steps[-1].delay_seconds)


def default_policy() -> Policy:
    """SMS tier 1 at once; at 5 min voice tier 1 and SMS tier 2; at 10 min call the physician tier (3).

    Every step waits 5 min for an ack; the whole policy runs three times (repeat=2) before the fallback alert.
    """
    return Policy(
        id="default",
        name="Nurse triage (default)",
        steps=(
            Step(300, (Target.tier(1),), "sms"),
            Step(300, (Target.tier(1, "voice"), Target.tier(2, "sms"))),
            Step(300, (Target.tier(3),), "voice"),
        ),
        repeat=2,
    )

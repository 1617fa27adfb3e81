"""Escalations and nurse paging (issue 4): queues, durable paging timers, acknowledgements.

An escalation is one clinical issue of one contact in one queue (at most one open per contact per queue,
enforced by a unique `open_key`). In a paged queue it runs its policy (triage/policy.py): each step pages the
people on call (triage/oncall.py) by SMS and/or voice, then waits its delay for an acknowledgement. The next
step is a row (`EscalationStep`) with its due time plus a deferred `fire_step` job; the sweeper fires any row
whose job was lost; firing claims the row with UPDATE … WHERE status='pending', under a lock on the escalation
row, so each step fires once whatever the number of workers. Acknowledging, closing or resolving cancels
every pending step, voice page and unsent page SMS of the escalation in one transaction (grafana/oncall #4654).

Jobs are queued only after the transaction that made their rows commits (`after_commit`); if that enqueue is
lost the sweeper catches the row. Pages carry no PHI (triage/wording.py).
"""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import event, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from bot import metrics
from bot.logging import get_logger
from bot.outbound import queue_text
from bot.services import Services
from channels.phone import mask
from channels.twilio.voice import CallRequest
from channels.types import AmbiguousSendError, RetryableSendError, SendError
from storage.db import insert_for
from storage.models import Conversation, Message, MessageStatus, Staff
from storage.paging import (
    Escalation,
    EscalationEvent,
    EscalationStatus,
    EscalationStep,
    OverrideRow,
    Page,
    PageStatus,
    PolicyRow,
    RotationRow,
    StepStatus,
)
from triage import acks, wording
from triage.engine import assess
from triage.oncall import Override, Rotation, on_call
from triage.policy import Policy, Step, Target, TargetKind, default_policy, next_position, validate_policy

if TYPE_CHECKING:
    from bot.router import HandleContext

log = get_logger(__name__)

LEVELS = ("non_clinical", "routine", "urgent", "emergency")
LEVEL_RANK = {name: i for i, name in enumerate(LEVELS)}
EARLY_TOLERANCE = timedelta(seconds=1)
VOICE_MAX_ATTEMPTS = 3


def level_rank(level: str) -> int:
    return LEVEL_RANK.get(level, 0)


def severity_of(level: str) -> wording.Severity:
    return "emergency" if level == "emergency" else "urgent"


# --------------------------------------------------------------------------------------------- after commit
_AFTER_COMMIT = "careline_after_commit"
_background: set[asyncio.Task[None]] = set()


def after_commit(session: AsyncSession, services: Services, name: str, *args: int | str, **kw: Any) -> None:
    """Queue job `name` once the session's transaction commits (dropped on rollback; the sweeper is the net)."""
    sync = session.sync_session
    pending: list[tuple[str, tuple[int | str, ...], dict[str, Any]]] | None = sync.info.get(_AFTER_COMMIT)
    if pending is None:
        pending = []
        sync.info[_AFTER_COMMIT] = pending

        def _on_commit(_s: Session) -> None:
            jobs = list(pending)
            pending.clear()
            if jobs:
                task = asyncio.get_running_loop().create_task(_enqueue_all(services, jobs))
                _background.add(task)
                task.add_done_callback(_background.discard)

        def _on_rollback(_s: Session) -> None:
            pending.clear()

        event.listen(sync, "after_commit", _on_commit)
        event.listen(sync, "after_rollback", _on_rollback)
    pending.append((name, args, kw))


async def _enqueue_all(services: Services, jobs: list[tuple[str, tuple[int | str, ...], dict[str, Any]]]) -> None:
    for name, args, kw in jobs:
        try:
            if kw.pop("priority", False) and not kw.get("defer_s"):
                await enqueue_first(services, name, *args, job_id=kw.get("job_id"))
            else:
                await services.queue.enqueue(name, *args, **kw)
        except Exception as exc:
            log.warning("enqueue_failed", job=name, error=type(exc).__name__)


PRIORITY_HEAD_START = timedelta(hours=1)


async def enqueue_first(services: Services, name: str, *args: int | str, job_id: str | None = None) -> bool:
    """Queue a job ahead of the backlog: arq runs due jobs in order of their score (due time), so a job whose
    score lies an hour in the past runs before any routine job queued in the last hour. Pages and the
    processing of urgent texts go this way; everything else stays first come, first served."""
    from bot.jobs import InProcessQueue
    from bot.services import QUEUE_NAME

    if services.redis is None or isinstance(services.queue, InProcessQueue):
        return await services.queue.enqueue(name, *args, job_id=job_id)
    job = await services.redis.enqueue_job(
        name,
        *args,
        _job_id=job_id,
        _queue_name=QUEUE_NAME,
        _defer_until=services.now() - PRIORITY_HEAD_START,
        _expires=timedelta(days=1),
    )
    return job is not None


async def enqueue_inbound(services: Services, message_id: int, text: str) -> bool:
    """Queue the processing of an inbound text; a text the triage engine reads as urgent or worse jumps the
    queue (the same engine, with no patient context, runs again in the job with the patient's)."""
    job_id = f"inbound:{message_id}"
    if (
        services.settings.paging_enabled
        and level_rank(assess(text, None, services.settings.triage_settings).level.value) >= LEVEL_RANK["urgent"]
    ):
        return await enqueue_first(services, "process_inbound", message_id, job_id=job_id)
    return await services.queue.enqueue("process_inbound", message_id, job_id=job_id)


async def flush_after_commit() -> None:
    """Wait for the post-commit enqueues started so far (not for ones other jobs start meanwhile)."""
    if _background:
        await asyncio.gather(*list(_background), return_exceptions=True)


# --------------------------------------------------------------------------------------------- policies
def policy_to_json(policy: Policy) -> dict[str, Any]:
    return {
        "id": policy.id,
        "name": policy.name,
        "repeat": policy.repeat,
        "steps": [step_to_json(s) for s in policy.steps],
    }


def step_to_json(step: Step) -> dict[str, Any]:
    return {
        "delay_seconds": step.delay_seconds,
        "channels": step.channels,
        "targets": [
            {"kind": t.kind, "value": t.value, **({"channels": t.channels} if t.channels else {})} for t in step.targets
        ],
    }


class PolicyError(ValueError):
    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {r}" for f, r in errors))
        self.errors = errors


def policy_from_json(data: dict[str, Any], *, key: str | None = None) -> Policy:
    """Build and validate a Policy from its JSON form. Raises PolicyError listing (field, reason)."""
    errors: list[tuple[str, str]] = []
    steps: list[Step] = []
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list):
        errors.append(("steps", "must be a list of steps"))
        raw_steps = []
    for i, raw in enumerate(raw_steps):
        where = f"steps[{i}]"
        if not isinstance(raw, dict):
            errors.append((where, "must be an object"))
            continue
        targets: list[Target] = []
        raw_targets = raw.get("targets")
        if not isinstance(raw_targets, list):
            errors.append((f"{where}.targets", "must be a list of targets"))
            raw_targets = []
        for j, t in enumerate(raw_targets):
            if not isinstance(t, dict):
                errors.append((f"{where}.targets[{j}]", "must be an object with kind and value"))
                continue
            value = t.get("value")
            kind = cast(TargetKind, str(t.get("kind", "")))  # validate_policy checks the value
            targets.append(Target(kind, "" if value is None else str(value), t.get("channels")))
        delay = raw.get("delay_seconds", 0)
        steps.append(Step(delay, tuple(targets), raw.get("channels", "sms")))
    repeat = data.get("repeat", 0)
    name = data.get("name", "")
    policy = Policy(
        id=key or str(data.get("id", "")), name=name if isinstance(name, str) else "", steps=tuple(steps), repeat=repeat
    )
    if not errors:
        errors.extend((e.field, e.reason) for e in validate_policy(policy))
    if errors:
        raise PolicyError(errors)
    return policy


async def load_policy(session: AsyncSession, key: str) -> Policy:
    row = (await session.execute(select(PolicyRow).where(PolicyRow.key == key))).scalar_one_or_none()
    if row is None:
        if key != "default":
            log.warning("policy_missing_using_default", policy=key)
        return default_policy()
    return policy_from_json({"name": row.name, "repeat": row.repeat, "steps": row.steps}, key=row.key)


# --------------------------------------------------------------------------------------------- on call
def rotation_of(row: RotationRow) -> Rotation:
    hh, mm = row.handoff_time.split(":")
    return Rotation(
        id=str(row.id),
        name=row.name,
        tier=row.tier,
        zone=row.zone,
        shift="weekly" if row.shift == "weekly" else "daily",
        handoff_time=time(int(hh), int(mm)),
        start=row.start_date,
        members=tuple(row.members),
        handoff_weekday=row.handoff_weekday,
    )


def override_of(row: OverrideRow) -> Override:
    return Override(
        tier=row.tier,
        staff_id=str(row.staff_id),
        start_utc=row.start_at,
        end_utc=row.end_at,
        replaces=str(row.replaces_staff_id) if row.replaces_staff_id is not None else None,
    )


async def on_call_at(session: AsyncSession, at: datetime) -> dict[int, tuple[str, ...]]:
    """Who is on call in each tier at `at` (staff ids as strings), from the stored rotations and overrides."""
    rotations = [rotation_of(r) for r in (await session.execute(select(RotationRow))).scalars()]
    overrides = [
        override_of(o)
        for o in (
            await session.execute(select(OverrideRow).where(OverrideRow.start_at <= at, OverrideRow.end_at > at))
        ).scalars()
    ]
    return on_call(rotations, overrides, at)


async def _people(
    session: AsyncSession, target: Target, now: datetime, cache: dict[str, dict[int, tuple[str, ...]]]
) -> list[tuple[int | None, str]]:
    """A target as (staff id, phone) pairs: active staff only."""
    if target.kind == "phone":
        staff = (await session.execute(select(Staff).where(Staff.phone == target.value))).scalar_one_or_none()
        return [(staff.id if staff else None, target.value)]
    if target.kind == "staff":
        ids = [target.value]
    else:
        if "oncall" not in cache:
            cache["oncall"] = await on_call_at(session, now)
        ids = list(cache["oncall"].get(int(target.value), ()))
    numeric = [int(i) for i in ids if i.isdigit()]
    if not numeric:
        return []
    rows = (await session.execute(select(Staff).where(Staff.id.in_(numeric), Staff.active.is_(True)))).scalars()
    by_id = {s.id: s for s in rows}
    return [(by_id[i].id, by_id[i].phone) for i in numeric if i in by_id]


# --------------------------------------------------------------------------------------------- storage helpers
async def conversation_id_for(session: AsyncSession, phone: str, now: datetime) -> int:
    """The conversation of a staff or fallback number, created if needed (without touching last_inbound_at)."""
    stmt = (
        insert_for(session, Conversation)
        .values(phone=phone, state="idle", state_data={}, created_at=now, updated_at=now)
        .on_conflict_do_nothing(index_elements=["phone"])  # type: ignore[attr-defined]
    )
    await session.execute(stmt)
    return int((await session.execute(select(Conversation.id).where(Conversation.phone == phone))).scalar_one())


async def lock_escalation(session: AsyncSession, escalation_id: int) -> Escalation | None:
    """Load the escalation with its row locked until commit (PostgreSQL; SQLite's BEGIN IMMEDIATE already
    serialises writers). Acks, closes and step firing all take this lock first, so they never interleave."""
    stmt = select(Escalation).where(Escalation.id == escalation_id).with_for_update()
    return (await session.execute(stmt.execution_options(populate_existing=True))).scalar_one_or_none()


def add_event(
    session: AsyncSession,
    escalation_id: int,
    kind: str,
    now: datetime,
    *,
    actor: str = "system",
    message_id: int | None = None,
    page_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        EscalationEvent(
            escalation_id=escalation_id,
            at=now,
            kind=kind,
            actor=actor,
            message_id=message_id,
            page_id=page_id,
            detail=detail or {},
        )
    )


def open_key(conversation_id: int, queue: str) -> str:
    return f"{conversation_id}:{queue}"


# --------------------------------------------------------------------------------------------- opening
@dataclass
class Routed:
    escalation_id: int
    queue: str
    level: str
    created: bool
    raised: bool = False
    paged: bool = False
    previous_level: str | None = None


async def route_to_queue(
    session: AsyncSession,
    services: Services,
    *,
    conversation_id: int,
    patient_id: int | None,
    queue: str,
    level: str,
    now: datetime,
    message_id: int | None = None,
    received_at: datetime | None = None,
    triage: dict[str, Any] | None = None,
    actor: str = "system",
) -> Routed:
    """Open an escalation in `queue` for the contact, or attach to the open one (raising its level if this is
    higher). In a paged queue a new escalation fires its first step in this transaction."""
    key = open_key(conversation_id, queue)
    existing = await _open_in_queue(session, key)
    if existing is None:
        esc = Escalation(
            conversation_id=conversation_id,
            patient_id=patient_id,
            queue=queue,
            level=level,
            status=EscalationStatus.OPEN,
            open_key=key,
            paged=False,
            policy={},
            opened_at=now,
            trigger_received_at=received_at or now,
            last_message_at=now if message_id is not None else None,
            updated_at=now,
        )
        try:
            async with session.begin_nested():
                session.add(esc)
                await session.flush()
        except IntegrityError:
            # Someone opened it between our look and our insert: attach to theirs.
            existing = await _open_in_queue(session, key)
            if existing is None:
                raise
        else:
            add_event(session, esc.id, "opened", now, actor=actor, detail={"queue": queue, "level": level})
            _attach_records(session, esc.id, now, message_id, triage)
            routed = Routed(esc.id, queue, level, created=True)
            policy_key = services.settings.queue_policies.get(queue)
            if policy_key is not None and services.settings.paging_enabled:
                policy = await load_policy(session, policy_key)
                esc.paged = True
                esc.policy = policy_to_json(policy)
                start = 0
                if level == "emergency":
                    start = max(0, min(services.settings.emergency_start_step, len(policy.steps) - 1))
                await _fire_now(session, services, esc, start, 0, now)
                routed.paged = True
            metrics.ESCALATIONS_OPEN.labels(level=level).inc()
            log.info("escalation_opened", escalation_id=esc.id, queue=queue, level=level, paged=routed.paged)
            return routed
    assert existing is not None  # noqa: S101 (narrowing for mypy)
    return await _attach(session, services, existing, level, now, message_id, triage, actor)


async def _open_in_queue(session: AsyncSession, key: str) -> Escalation | None:
    stmt = select(Escalation).where(Escalation.open_key == key).with_for_update()
    return (await session.execute(stmt.execution_options(populate_existing=True))).scalar_one_or_none()


def _attach_records(
    session: AsyncSession, escalation_id: int, now: datetime, message_id: int | None, triage: dict[str, Any] | None
) -> None:
    if message_id is not None:
        add_event(session, escalation_id, "message", now, actor="patient", message_id=message_id)
    if triage is not None:
        add_event(session, escalation_id, "triage", now, message_id=message_id, detail=triage)


async def _attach(
    session: AsyncSession,
    services: Services,
    esc: Escalation,
    level: str,
    now: datetime,
    message_id: int | None,
    triage: dict[str, Any] | None,
    actor: str,
) -> Routed:
    _attach_records(session, esc.id, now, message_id, triage)
    if message_id is not None:
        esc.last_message_at = now
    esc.updated_at = now
    routed = Routed(esc.id, esc.queue, esc.level, created=False, paged=esc.paged)
    if level_rank(level) <= level_rank(esc.level):
        return routed
    routed.previous_level, routed.raised, routed.level = esc.level, True, level
    metrics.ESCALATIONS_OPEN.labels(level=esc.level).dec()
    metrics.ESCALATIONS_OPEN.labels(level=level).inc()
    add_event(session, esc.id, "level_raised", now, actor=actor, detail={"from": esc.level, "to": level})
    esc.level = level
    log.info("escalation_level_raised", escalation_id=esc.id, level=level)
    if not esc.paged or level != "emergency":
        return routed
    policy = policy_from_json(esc.policy, key=str(esc.policy.get("id", "")))
    start = max(0, min(services.settings.emergency_start_step, len(policy.steps) - 1))
    if esc.status == EscalationStatus.OPEN and (esc.step_index or 0) < start:
        await _cancel_pending(session, esc.id, now)
        await _fire_now(session, services, esc, start, esc.round or 0, now)
    elif esc.status == EscalationStatus.ACKED and esc.acked_by_staff_id is not None:
        # The person who took it hears that it is now an emergency (no PHI), and nobody else is paged.
        staff = await session.get(Staff, esc.acked_by_staff_id)
        if staff is not None:
            await _page_sms(session, services, esc, staff.id, staff.phone, now, step_id=None, step_index=-1, round_=0)
    return routed


# --------------------------------------------------------------------------------------------- firing
async def _fire_now(
    session: AsyncSession, services: Services, esc: Escalation, step_index: int, round_: int, now: datetime
) -> None:
    step = EscalationStep(
        escalation_id=esc.id,
        kind="page",
        step_index=step_index,
        round=round_,
        due_at=now,
        status=StepStatus.FIRED,
        fired_at=now,
        created_at=now,
    )
    session.add(step)
    await session.flush()
    await _fire_page_step(session, services, esc, step, now)


async def _queue_staff_text(
    session: AsyncSession,
    services: Services,
    esc: Escalation,
    phone: str,
    body: str,
    now: datetime,
    *,
    kind: str,
    staff_id: int | None,
    step_id: int | None,
    step_index: int,
    round_: int,
) -> Page:
    """An SMS to staff (a page or the out-of-steps alert): the outbox row, its Page row, sent after commit."""
    conv_id = await conversation_id_for(session, phone, now)
    msg = await queue_text(
        session,
        services,
        conversation_id=conv_id,
        patient_id=None,
        to=phone,
        body=body,
        kind=kind,
        now=now,
        ttl_s=services.settings.page_ttl_s,
        sender=services.settings.paging_from,
    )
    page = Page(
        escalation_id=esc.id,
        step_id=step_id,
        step_index=step_index,
        round=round_,
        channel="sms",
        kind=kind,
        staff_id=staff_id,
        phone=phone,
        status=PageStatus.SENT,
        message_id=msg.id,
        created_at=now,
        updated_at=now,
    )
    session.add(page)
    await session.flush()
    after_commit(session, services, "send_message", msg.id, priority=True)
    return page


async def _page_sms(
    session: AsyncSession,
    services: Services,
    esc: Escalation,
    staff_id: int | None,
    phone: str,
    now: datetime,
    *,
    step_id: int | None,
    step_index: int,
    round_: int,
) -> Page:
    body = wording.nurse_page_sms(esc.id, severity_of(esc.level), "en", services.settings.practice_name)
    page = await _queue_staff_text(
        session,
        services,
        esc,
        phone,
        body,
        now,
        kind="page",
        staff_id=staff_id,
        step_id=step_id,
        step_index=step_index,
        round_=round_,
    )
    add_event(session, esc.id, "page", now, page_id=page.id, detail={"channel": "sms", "staff_id": staff_id})
    metrics.PAGES.labels(channel="sms", outcome="queued").inc()
    return page


async def _fire_page_step(
    session: AsyncSession, services: Services, esc: Escalation, step_row: EscalationStep, now: datetime
) -> None:
    policy = policy_from_json(esc.policy, key=str(esc.policy.get("id", "")))
    index = min(step_row.step_index, len(policy.steps) - 1)
    step = policy.steps[index]
    cache: dict[str, dict[int, tuple[str, ...]]] = {}
    paged = 0
    for target in step.targets:
        people = await _people(session, target, now, cache)
        channels = target.channels or step.channels
        for channel in ("sms", "voice") if channels == "both" else (channels,):
            for staff_id, phone in people:
                if channel == "sms":
                    await _page_sms(
                        session,
                        services,
                        esc,
                        staff_id,
                        phone,
                        now,
                        step_id=step_row.id,
                        step_index=index,
                        round_=step_row.round,
                    )
                else:
                    page = Page(
                        escalation_id=esc.id,
                        step_id=step_row.id,
                        step_index=index,
                        round=step_row.round,
                        channel="voice",
                        kind="page",
                        staff_id=staff_id,
                        phone=phone,
                        status=PageStatus.PENDING,
                        created_at=now,
                        updated_at=now,
                    )
                    session.add(page)
                    await session.flush()
                    add_event(
                        session, esc.id, "page", now, page_id=page.id, detail={"channel": "voice", "staff_id": staff_id}
                    )
                    after_commit(session, services, "place_call", page.id, job_id=f"call:{page.id}", priority=True)
                paged += 1
    esc.step_index, esc.round, esc.updated_at = index, step_row.round, now
    if paged == 0:
        add_event(session, esc.id, "no_one_on_call", now, detail={"step": index, "round": step_row.round})
        log.warning("step_paged_no_one", escalation_id=esc.id, step=index, round=step_row.round)
    elif esc.first_page_at is None:
        esc.first_page_at = now
        if esc.trigger_received_at is not None:
            metrics.PAGE_LATENCY_SECONDS.observe(max(0.0, (now - esc.trigger_received_at).total_seconds()))
    log.info("step_fired", escalation_id=esc.id, step=index, round=step_row.round, pages=paged)
    # The next timer: the next step after this one's ack window (at once if nobody could be paged), or the
    # out-of-steps alert after the last step's window.
    due = now + timedelta(seconds=step.delay_seconds if paged else 0)
    nxt = next_position(policy, index, step_row.round)
    row = EscalationStep(
        escalation_id=esc.id,
        kind="page" if nxt is not None else "exhausted",
        step_index=nxt[0] if nxt is not None else index,
        round=nxt[1] if nxt is not None else step_row.round,
        due_at=due,
        status=StepStatus.PENDING,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    after_commit(
        session,
        services,
        "fire_step",
        row.id,
        job_id=f"step:{row.id}",
        defer_s=(due - now).total_seconds(),
        priority=True,
    )


async def _exhaust(
    session: AsyncSession, services: Services, esc: Escalation, step_row: EscalationStep, now: datetime
) -> None:
    """Every step was paged and nobody acknowledged: alert the practice's fallback number (once)."""
    if esc.exhausted_at is not None:
        return
    esc.exhausted_at = now
    esc.updated_at = now
    phone = services.settings.alert_phone
    body = wording.out_of_steps_alert(esc.id, severity_of(esc.level), "en", services.settings.practice_name)
    page = await _queue_staff_text(
        session,
        services,
        esc,
        phone,
        body,
        now,
        kind="alert",
        staff_id=None,
        step_id=step_row.id,
        step_index=step_row.step_index,
        round_=step_row.round,
    )
    add_event(session, esc.id, "exhausted", now, page_id=page.id, detail={"alerted": mask(phone)})
    metrics.ESCALATIONS_EXHAUSTED.inc()
    log.warning("escalation_exhausted", escalation_id=esc.id, alerted=mask(phone))


async def fire_step(services: Services, step_id: int) -> None:
    """Job: fire one timer row, at most once (safe to run twice, concurrently, or late)."""
    now = services.now()
    async with services.sessions() as session, session.begin():
        step = await session.get(EscalationStep, step_id)
        if step is None or step.status != StepStatus.PENDING:
            return
        if step.due_at > now + EARLY_TOLERANCE:
            return  # a stray early run: the deferred job or the sweeper comes back for it
        esc = await lock_escalation(session, step.escalation_id)
        if esc is None:
            return
        claimed = await session.execute(
            update(EscalationStep)
            .where(EscalationStep.id == step_id, EscalationStep.status == StepStatus.PENDING)
            .values(status=StepStatus.FIRED, fired_at=now)
        )
        if not getattr(claimed, "rowcount", 0):
            return  # another worker fired it
        step = await session.get(EscalationStep, step_id, populate_existing=True)
        assert step is not None  # noqa: S101 (claimed just now)
        if esc.status != EscalationStatus.OPEN:
            step.status = StepStatus.CANCELED
            return
        if step.kind == "exhausted":
            await _exhaust(session, services, esc, step, now)
        else:
            await _fire_page_step(session, services, esc, step, now)


async def _cancel_pending(session: AsyncSession, escalation_id: int, now: datetime) -> None:
    """Cancel every pending timer, voice page and unsent page SMS of the escalation (grafana/oncall #4654)."""
    await session.execute(
        update(EscalationStep)
        .where(EscalationStep.escalation_id == escalation_id, EscalationStep.status == StepStatus.PENDING)
        .values(status=StepStatus.CANCELED)
    )
    await session.execute(
        update(Page)
        .where(Page.escalation_id == escalation_id, Page.status == PageStatus.PENDING)
        .values(status=PageStatus.CANCELED, updated_at=now)
    )
    page_messages = select(Page.message_id).where(
        Page.escalation_id == escalation_id, Page.kind == "page", Page.message_id.is_not(None)
    )
    await session.execute(
        update(Message)
        .where(Message.id.in_(page_messages), Message.status == MessageStatus.PENDING)
        .values(status=MessageStatus.CANCELED, status_updated_at=now)
    )


# --------------------------------------------------------------------------------------------- actions
class Outcome(enum.StrEnum):
    DONE = "done"
    ALREADY = "already"  # already acked by the same person
    TAKEN = "taken"  # acked by someone else
    NOT_FOUND = "not_found"  # no such escalation, or resolved
    NOT_YOURS = "not_yours"
    EXHAUSTED = "exhausted"  # escalate: no next step; the fallback was alerted


@dataclass
class ActionResult:
    outcome: Outcome
    escalation_id: int
    taken_by: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


async def acknowledge(
    session: AsyncSession, escalation_id: int, *, actor: str, staff_id: int | None, now: datetime, via: str
) -> ActionResult:
    esc = await lock_escalation(session, escalation_id)
    if esc is None or esc.status == EscalationStatus.RESOLVED:
        return ActionResult(Outcome.NOT_FOUND, escalation_id)
    if esc.status == EscalationStatus.ACKED:
        if staff_id is not None and esc.acked_by_staff_id == staff_id:
            return ActionResult(Outcome.ALREADY, escalation_id)
        return ActionResult(Outcome.TAKEN, escalation_id, taken_by=await _staff_name(session, esc.acked_by_staff_id))
    esc.status = EscalationStatus.ACKED
    esc.acked_at = now
    esc.acked_by_staff_id = staff_id
    esc.acked_by = actor
    esc.updated_at = now
    await _cancel_pending(session, esc.id, now)
    add_event(session, esc.id, "ack", now, actor=actor, detail={"via": via})
    metrics.ACK_SECONDS.observe(max(0.0, (now - esc.opened_at).total_seconds()))
    log.info("escalation_acked", escalation_id=esc.id, via=via)
    return ActionResult(Outcome.DONE, escalation_id)


async def resolve(
    session: AsyncSession, escalation_id: int, *, actor: str, note: str | None, now: datetime
) -> ActionResult:
    esc = await lock_escalation(session, escalation_id)
    if esc is None or esc.status == EscalationStatus.RESOLVED:
        return ActionResult(Outcome.NOT_FOUND, escalation_id)
    esc.status = EscalationStatus.RESOLVED
    esc.open_key = None
    esc.resolved_at = now
    esc.resolved_by = actor
    if note:
        esc.resolution_note = note
    esc.updated_at = now
    await _cancel_pending(session, esc.id, now)
    if note:
        add_event(session, esc.id, "note", now, actor=actor, detail={"note": note})
    add_event(session, esc.id, "resolve", now, actor=actor)
    metrics.ESCALATIONS_OPEN.labels(level=esc.level).dec()
    log.info("escalation_resolved", escalation_id=esc.id)
    return ActionResult(Outcome.DONE, escalation_id)


async def add_note(session: AsyncSession, escalation_id: int, *, actor: str, note: str, now: datetime) -> bool:
    esc = await session.get(Escalation, escalation_id)
    if esc is None:
        return False
    esc.resolution_note = note if not esc.resolution_note else f"{esc.resolution_note}\n{note}"
    esc.updated_at = now
    add_event(session, esc.id, "note", now, actor=actor, detail={"note": note})
    return True


async def escalate_now(
    session: AsyncSession, services: Services, escalation_id: int, *, actor: str, now: datetime
) -> ActionResult:
    """Page the next step at once (an acknowledged escalation goes back to paging)."""
    esc = await lock_escalation(session, escalation_id)
    if esc is None or esc.status == EscalationStatus.RESOLVED:
        return ActionResult(Outcome.NOT_FOUND, escalation_id)
    if not esc.paged:
        policy_key = services.settings.queue_policies.get(esc.queue, "default")
        esc.policy = policy_to_json(await load_policy(session, policy_key))
        esc.paged = True
    policy = policy_from_json(esc.policy, key=str(esc.policy.get("id", "")))
    await _cancel_pending(session, esc.id, now)
    esc.status = EscalationStatus.OPEN
    esc.acked_at, esc.acked_by, esc.acked_by_staff_id = None, None, None
    add_event(session, esc.id, "escalate", now, actor=actor)
    nxt = (0, 0) if esc.step_index is None else next_position(policy, esc.step_index, esc.round or 0)
    if nxt is None:
        row = EscalationStep(
            escalation_id=esc.id,
            kind="exhausted",
            step_index=esc.step_index or 0,
            round=esc.round or 0,
            due_at=now,
            status=StepStatus.FIRED,
            fired_at=now,
            created_at=now,
        )
        session.add(row)
        await session.flush()
        esc.exhausted_at = None  # an explicit escalation past the end alerts the fallback again
        await _exhaust(session, services, esc, row, now)
        return ActionResult(Outcome.EXHAUSTED, escalation_id)
    await _fire_now(session, services, esc, nxt[0], nxt[1], now)
    log.info("escalation_escalated", escalation_id=esc.id, step=nxt[0], round=nxt[1])
    return ActionResult(Outcome.DONE, escalation_id, extra={"step": nxt[0], "round": nxt[1]})


async def _staff_name(session: AsyncSession, staff_id: int | None) -> str | None:
    if staff_id is None:
        return None
    staff = await session.get(Staff, staff_id)
    return staff.name if staff else None


async def was_paged(session: AsyncSession, escalation_id: int, staff: Staff) -> bool:
    stmt = select(func.count()).where(
        Page.escalation_id == escalation_id,
        Page.kind == "page",
        or_(Page.staff_id == staff.id, Page.phone == staff.phone),
    )
    return int((await session.execute(stmt)).scalar_one()) > 0


async def open_to(session: AsyncSession, staff: Staff, *, include_acked: bool) -> list[int]:
    """Escalations open to this person: paged to them and unacknowledged (plus, optionally, acked by them)."""
    paged = select(Page.escalation_id).where(
        Page.kind == "page", or_(Page.staff_id == staff.id, Page.phone == staff.phone)
    )
    cond = (Escalation.status == EscalationStatus.OPEN) & Escalation.id.in_(paged)
    if include_acked:
        cond = cond | ((Escalation.status == EscalationStatus.ACKED) & (Escalation.acked_by_staff_id == staff.id))
    rows = await session.execute(select(Escalation.id).where(cond).order_by(Escalation.id))
    return [int(i) for i in rows.scalars()]


# --------------------------------------------------------------------------------------------- nurse texts
NOTE_PROMPT = {"en": "Reply with a note for the record if you like.", "es": "Responda con una nota si desea."}


async def handle_staff_sms(ctx: HandleContext, message: Message) -> bool:
    """A text from a staff member's phone (ack codes). True when handled: no patient routing then."""
    session = ctx.session
    staff = (
        await session.execute(select(Staff).where(Staff.phone == ctx.conversation.phone, Staff.active.is_(True)))
    ).scalar_one_or_none()
    if staff is None:
        return False
    lang = "en"
    now = ctx.now
    actor = f"staff:{staff.id}"
    action = acks.parse_reply(message.body)
    state = dict(ctx.conversation.state_data)
    note_for = state.pop("note_for", None)
    note_until = state.pop("note_until", None)
    if note_for is not None:
        ctx.conversation.state_data = state
    if isinstance(action, acks.Unrecognised):
        if (
            note_for is not None
            and note_until is not None
            and now < datetime.fromisoformat(str(note_until))
            and await add_note(session, int(note_for), actor=actor, note=message.body.strip(), now=now)
        ):
            reply = wording.to_staff_ascii(f"{wording.BRAND}: note added to #{int(note_for)}.")
            await ctx.reply(reply, kind="staff_reply")
            log.info("staff_note_added", escalation_id=int(note_for), staff_id=staff.id)
            return True
        await ctx.reply(acks.help_text(lang), kind="staff_reply")
        log.info("staff_reply_unrecognised", staff_id=staff.id)
        return True
    target = action.escalation_id
    if target is None:
        candidates = await open_to(session, staff, include_acked=not isinstance(action, acks.Ack))
        if not candidates:
            await ctx.reply(wording.nurse_reply_none_open(lang), kind="staff_reply")
            return True
        if len(candidates) > 1:
            await ctx.reply(wording.nurse_reply_which(candidates, lang), kind="staff_reply")
            return True
        target = candidates[0]
    esc = await session.get(Escalation, target)
    if esc is None or esc.status == EscalationStatus.RESOLVED:
        await ctx.reply(wording.nurse_reply_not_found(target, lang), kind="staff_reply")
        return True
    mine = esc.acked_by_staff_id == staff.id
    if not mine and not await was_paged(session, target, staff):
        if isinstance(action, acks.Ack) and esc.status == EscalationStatus.ACKED:
            name = await _staff_name(session, esc.acked_by_staff_id)
            await ctx.reply(wording.nurse_reply_already_taken(target, lang, name), kind="staff_reply")
        else:
            await ctx.reply(wording.nurse_reply_not_yours(target, lang), kind="staff_reply")
        log.info("staff_action_refused", escalation_id=target, staff_id=staff.id, reason="not_paged")
        return True
    if isinstance(action, acks.Ack):
        result = await acknowledge(session, target, actor=actor, staff_id=staff.id, now=now, via="sms")
        if result.outcome is Outcome.TAKEN:
            await ctx.reply(wording.nurse_reply_already_taken(target, lang, result.taken_by), kind="staff_reply")
        else:
            await ctx.reply(wording.nurse_reply_acked(target, lang), kind="staff_reply")
        return True
    if esc.status == EscalationStatus.ACKED and not mine:
        await ctx.reply(wording.nurse_reply_not_yours(target, lang), kind="staff_reply")
        return True
    if isinstance(action, acks.Close):
        await resolve(session, target, actor=actor, note=None, now=now)
        until = now + timedelta(seconds=ctx.services.settings.note_window_s)
        ctx.conversation.state_data = {**state, "note_for": target, "note_until": until.isoformat()}
        body = wording.to_staff_ascii(f"{wording.nurse_reply_closed(target, lang)} {NOTE_PROMPT[lang]}")
        await ctx.reply(
            body if len(body) <= wording.SMS_SEGMENT else wording.nurse_reply_closed(target, lang), kind="staff_reply"
        )
        return True
    result = await escalate_now(session, ctx.services, target, actor=actor, now=now)
    await ctx.reply(wording.nurse_reply_escalated(target, lang), kind="staff_reply")
    log.info("staff_escalated", escalation_id=target, staff_id=staff.id, outcome=result.outcome.value)
    return True


# --------------------------------------------------------------------------------------------- voice
def voice_page_url(services: Services, page_id: int) -> str:
    return f"{services.settings.public_url}/twilio/voice/page/{page_id}"


async def place_call(services: Services, page_id: int) -> None:
    """Job: place one voice page, at most once. Skipped when its escalation was acknowledged or closed."""
    settings = services.settings
    now = services.now()
    async with services.sessions() as session, session.begin():
        page = await session.get(Page, page_id)
        if page is None or page.channel != "voice" or page.status != PageStatus.PENDING:
            return
        esc = await session.get(Escalation, page.escalation_id)
        if (
            esc is None
            or esc.status != EscalationStatus.OPEN
            or now - page.created_at > timedelta(seconds=settings.page_ttl_s)
        ):
            page.status, page.updated_at = PageStatus.CANCELED, now
            return
        claimed = await session.execute(
            update(Page)
            .where(Page.id == page_id, Page.status == PageStatus.PENDING)
            .values(status=PageStatus.CALLING, attempts=Page.attempts + 1, updated_at=now)
        )
        if not getattr(claimed, "rowcount", 0):
            return
        to, attempts = page.phone, page.attempts + 1
    request = CallRequest(
        to=to,
        url=voice_page_url(services, page_id),
        status_callback=f"{settings.public_url}/twilio/voice/status",
        timeout_s=settings.voice_ring_timeout_s,
    )
    retry_in: float | None = None
    try:
        result = await services.caller.place_call(request)
    except SendError as exc:
        status = PageStatus.FAILED
        if isinstance(exc, RetryableSendError) and attempts < VOICE_MAX_ATTEMPTS:
            status, retry_in = PageStatus.PENDING, float(2**attempts)
        call_status = "unknown" if isinstance(exc, AmbiguousSendError) else f"error:{exc.code}"
        async with services.sessions() as session, session.begin():
            await session.execute(
                update(Page)
                .where(Page.id == page_id, Page.status == PageStatus.CALLING)
                .values(status=status, call_status=call_status[:16], updated_at=services.now())
            )
        metrics.PAGES.labels(channel="voice", outcome=type(exc).__name__).inc()
        log.warning("voice_page_failed", page_id=page_id, error=type(exc).__name__, code=exc.code)
        if retry_in is not None:
            await services.queue.enqueue("place_call", page_id, defer_s=retry_in)
        return
    async with services.sessions() as session, session.begin():
        await session.execute(
            update(Page)
            .where(Page.id == page_id, Page.status == PageStatus.CALLING)
            .values(status=PageStatus.SENT, call_sid=result.sid, call_status=result.status, updated_at=services.now())
        )
    metrics.PAGES.labels(channel="voice", outcome="placed").inc()
    log.info("voice_page_placed", page_id=page_id, sid=result.sid, to=mask(to))


# --------------------------------------------------------------------------------------------- sweeper
async def sweep_paging(services: Services) -> dict[str, int]:
    """Fire timers whose job was lost, re-queue voice pages, give up on calls whose worker died mid-request."""
    now = services.now()
    settings = services.settings
    counts = {"steps": 0, "calls": 0, "stale_calls": 0}
    async with services.sessions() as session:
        step_ids = [
            int(i)
            for i in (
                await session.execute(
                    select(EscalationStep.id).where(
                        EscalationStep.status == StepStatus.PENDING,
                        EscalationStep.due_at < now - timedelta(seconds=2),
                    )
                )
            ).scalars()
        ]
        call_ids = [
            int(i)
            for i in (
                await session.execute(
                    select(Page.id).where(
                        Page.status == PageStatus.PENDING,
                        Page.channel == "voice",
                        Page.updated_at < now - timedelta(seconds=5),
                    )
                )
            ).scalars()
        ]
    async with services.sessions() as session, session.begin():
        stale = await session.execute(
            update(Page)
            .where(
                Page.status == PageStatus.CALLING,
                Page.updated_at < now - timedelta(seconds=settings.calling_stale_s),
            )
            .values(status=PageStatus.FAILED, call_status="unknown", updated_at=now)
        )
        counts["stale_calls"] = int(getattr(stale, "rowcount", 0) or 0)
    stamp = f"{now:%Y%m%d%H%M}"
    for step_id in step_ids:
        counts["steps"] += await services.queue.enqueue("fire_step", step_id, job_id=f"step:{step_id}:sweep:{stamp}")
    for page_id in call_ids:
        counts["calls"] += await services.queue.enqueue("place_call", page_id, job_id=f"call:{page_id}:sweep:{stamp}")
    await refresh_open_gauge(services)
    if any(counts.values()):
        log.info("paging_sweep", **counts)
    return counts


async def refresh_open_gauge(services: Services) -> dict[str, int]:
    async with services.sessions() as session:
        rows = await session.execute(
            select(Escalation.level, func.count())
            .where(Escalation.status != EscalationStatus.RESOLVED)
            .group_by(Escalation.level)
        )
        counts = {str(level): int(n) for level, n in rows.all()}
    for level in LEVELS:
        metrics.ESCALATIONS_OPEN.labels(level=level).set(counts.get(level, 0))
    return counts

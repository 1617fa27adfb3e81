"""Models for escalations and paging (issue 4): on-call schedules, policies, escalations, their timers and pages.

Import this module wherever the paging tables are needed (it registers them on storage.models.Base's metadata).
Durable timers: an escalation's next step is an `EscalationStep` row with its due time; a deferred job fires
it, and the sweeper fires any row whose job was lost. Firing claims the row atomically (UPDATE … WHERE
status='pending'), so a step fires once even with several workers.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, BigId


class EscalationStatus(enum.StrEnum):
    OPEN = "open"  # paging until someone acknowledges
    ACKED = "acked"  # a person took it; paging stopped
    RESOLVED = "resolved"  # closed (the open key is released)


class StepStatus(enum.StrEnum):
    PENDING = "pending"
    FIRED = "fired"
    CANCELED = "canceled"


class PageStatus(enum.StrEnum):
    PENDING = "pending"  # voice: waiting for its place_call job
    CALLING = "calling"  # voice: claimed, Calls.create in flight
    SENT = "sent"  # SMS queued in the outbox / call placed
    CANCELED = "canceled"  # acknowledged (or closed) before it went out
    FAILED = "failed"


class ApiToken(Base):
    """A bearer token for /api/v1. Only its SHA-256 is stored (the token is 32 random bytes)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))  # admin | nurse | viewer
    name: Mapped[str] = mapped_column(String(100), default="")
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class RotationRow(Base):
    """An on-call rotation (triage.oncall.Rotation). Members are staff ids, as strings, in turn order."""

    __tablename__ = "oncall_rotations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    tier: Mapped[int] = mapped_column(Integer)
    zone: Mapped[str] = mapped_column(String(64))
    shift: Mapped[str] = mapped_column(String(10))  # daily | weekly
    handoff_time: Mapped[str] = mapped_column(String(5))  # HH:MM local
    handoff_weekday: Mapped[int | None] = mapped_column(Integer, default=None)
    start_date: Mapped[date] = mapped_column(Date)
    members: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class OverrideRow(Base):
    """A temporary on-call override (triage.oncall.Override): add a person to a tier, or replace one."""

    __tablename__ = "oncall_overrides"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tier: Mapped[int] = mapped_column(Integer)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    replaces_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    created_at: Mapped[datetime]


class PolicyRow(Base):
    """An escalation policy (triage.policy.Policy); `steps` is its JSON form (see bot.paging.policy_from_json)."""

    __tablename__ = "escalation_policies"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    repeat: Mapped[int] = mapped_column(Integer, default=0)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Escalation(Base):
    """One clinical issue in one queue. At most one is open per contact per queue: `open_key` is
    "<conversation_id>:<queue>" while the escalation is open or acknowledged and NULL once resolved, under a
    unique constraint (NULLs never collide, on SQLite and PostgreSQL alike)."""

    __tablename__ = "escalations"
    __table_args__ = (Index("ix_escalations_status_queue", "status", "queue"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"), default=None)
    queue: Mapped[str] = mapped_column(String(32))
    level: Mapped[str] = mapped_column(String(16))  # emergency | urgent | routine | non_clinical
    status: Mapped[str] = mapped_column(String(16), default=EscalationStatus.OPEN)
    open_key: Mapped[str | None] = mapped_column(String(80), unique=True, default=None)
    paged: Mapped[bool] = mapped_column(Boolean, default=False)
    policy: Mapped[dict[str, Any]] = mapped_column(default=dict)  # snapshot of the policy when opened
    step_index: Mapped[int | None] = mapped_column(Integer, default=None)  # the last step fired
    round: Mapped[int | None] = mapped_column(Integer, default=None)
    opened_at: Mapped[datetime]
    trigger_received_at: Mapped[datetime | None] = mapped_column(default=None)
    last_message_at: Mapped[datetime | None] = mapped_column(default=None)
    first_page_at: Mapped[datetime | None] = mapped_column(default=None)
    acked_at: Mapped[datetime | None] = mapped_column(default=None)
    acked_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    acked_by: Mapped[str | None] = mapped_column(String(100), default=None)
    exhausted_at: Mapped[datetime | None] = mapped_column(default=None)  # ran out of steps unacknowledged
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    resolved_by: Mapped[str | None] = mapped_column(String(100), default=None)
    resolution_note: Mapped[str | None] = mapped_column(Text, default=None)
    updated_at: Mapped[datetime]


class EscalationEvent(Base):
    """The timeline: message, triage, opened, level_raised, page, ack, note, escalate, exhausted, resolve …"""

    __tablename__ = "escalation_events"
    __table_args__ = (Index("ix_escalation_events_escalation", "escalation_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id"))
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(100), default="system")
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), default=None)
    page_id: Mapped[int | None] = mapped_column(ForeignKey("pages.id"), default=None)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class EscalationStep(Base):
    """A durable timer: fire step `step_index` of round `round` (kind 'page'), or the out-of-steps alert (kind
    'exhausted'), at `due_at`. Exactly one fires: pending -> fired by an atomic claim, or -> canceled."""

    __tablename__ = "escalation_steps"
    __table_args__ = (Index("ix_escalation_steps_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="page")
    step_index: Mapped[int] = mapped_column(Integer)
    round: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default=StepStatus.PENDING)
    fired_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime]


class Page(Base):
    """One page to one person by one channel. SMS pages are outbox rows (`message_id`, kind='page');
    voice pages are placed by the `place_call` job (pending -> calling -> sent)."""

    __tablename__ = "pages"
    __table_args__ = (Index("ix_pages_status", "status", "channel"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id"), index=True)
    step_id: Mapped[int | None] = mapped_column(ForeignKey("escalation_steps.id"), default=None)
    step_index: Mapped[int] = mapped_column(Integer)
    round: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(8))  # sms | voice
    kind: Mapped[str] = mapped_column(String(16), default="page")  # page | alert (out of steps)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None, index=True)
    phone: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=PageStatus.PENDING)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), default=None)
    call_sid: Mapped[str | None] = mapped_column(String(64), default=None, unique=True)
    call_status: Mapped[str | None] = mapped_column(String(16), default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

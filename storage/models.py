"""SQLAlchemy 2 typed models. Storage knows nothing above it (no HTTP, no Twilio, no flows)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets BIGINT identities.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}  # noqa: RUF012 (SQLAlchemy API)


class Direction(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class MessageStatus(enum.StrEnum):
    """One fixed set of delivery states (RapidPro style). Ours first, then Twilio's."""

    RECEIVED = "received"  # inbound
    PENDING = "pending"  # outbox row, not yet handed to Twilio
    SENDING_REQUEST = "requesting"  # claimed by a worker, REST call in flight (or a worker died mid-call)
    UNKNOWN = "unknown"  # the REST call timed out: reconcile before any retry
    ACCEPTED = "accepted"
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    READ = "read"
    CANCELED = "canceled"
    SUPPRESSED = "suppressed"  # recipient opted out: never sent
    EXPIRED = "expired"  # time-to-live passed before it could be sent: dropped, not sent late


class Patient(Base):
    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)  # E.164
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100), default="")
    language: Mapped[str] = mapped_column(String(8), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="America/New_York")
    # Treatment context for triage: chemotherapy | immunotherapy | targeted | radiation | none | unknown
    treatment: Mapped[str] = mapped_column(String(20), default="unknown")
    last_dose_at: Mapped[datetime | None] = mapped_column(default=None)
    on_anticoagulant: Mapped[bool] = mapped_column(Boolean, default=False)
    mrn: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))  # nurse | physician | admin | staff
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True, default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Conversation(Base):
    """One per contact phone number (patient or not). Holds the flow state for that contact."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    phone: Mapped[str] = mapped_column(String(32), unique=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"), default=None)
    state: Mapped[str] = mapped_column(String(64), default="idle")
    state_data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    last_inbound_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Message(Base):
    """Every text in or out. An outbound row is also the outbox entry for that text."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_outbox", "status", "next_attempt_at"),
        Index("ix_messages_inbound_pending", "direction", "processed_at"),
        Index("ix_messages_conversation", "conversation_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"), default=None)
    direction: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(10), default="sms")
    # Twilio MessageSid. Inbound: the idempotency key, claimed with INSERT … ON CONFLICT DO NOTHING.
    external_sid: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    from_number: Mapped[str] = mapped_column(String(32))
    to_number: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[int | None] = mapped_column(Integer, default=None)
    error_message: Mapped[str | None] = mapped_column(String(500), default=None)
    num_segments: Mapped[int] = mapped_column(Integer, default=1)
    encoding: Mapped[str] = mapped_column(String(8), default="GSM-7")
    # Why it was sent: reply, consent_confirmation, help, reminder, page, alert, … (drives consent rules)
    kind: Mapped[str] = mapped_column(String(32), default="reply")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    status_updated_at: Mapped[datetime | None] = mapped_column(default=None)
    processed_at: Mapped[datetime | None] = mapped_column(default=None)
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)


class MessageStatusEvent(Base):
    """Every delivery callback, deduplicated on (SID, status). Kept even before the SID is known to us."""

    __tablename__ = "message_status_events"
    __table_args__ = (UniqueConstraint("sid", "status", name="uq_message_status_events_sid_status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sid: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[int | None] = mapped_column(Integer, default=None)
    received_at: Mapped[datetime]


class OptOut(Base):
    """The suppression list: one row per phone number currently opted out (any channel, any number)."""

    __tablename__ = "opt_outs"

    phone: Mapped[str] = mapped_column(String(32), primary_key=True)
    source: Mapped[str] = mapped_column(String(32))  # keyword | natural_language | carrier_21610 | staff
    opted_out_at: Mapped[datetime]


class ConsentEvent(Base):
    """History of consent changes (opt-out, opt-in), never updated."""

    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    phone: Mapped[str] = mapped_column(String(32), index=True)
    action: Mapped[str] = mapped_column(String(10))  # opt_out | opt_in
    source: Mapped[str] = mapped_column(String(32))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), default=None)
    at: Mapped[datetime]


class AuditLog(Base):
    """Who saw or changed what. Details carry ids, never PHI."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    entity: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)

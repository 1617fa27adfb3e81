"""Persistence operations used by the jobs and handlers. Each takes a session inside the caller's transaction.

Idempotency lives here: atomic claims (INSERT … ON CONFLICT DO NOTHING), forward-only status updates.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeEngine

from storage.db import insert_for
from storage.models import (
    AuditLog,
    ConsentEvent,
    Conversation,
    Direction,
    Message,
    MessageStatus,
    MessageStatusEvent,
    OptOut,
    Patient,
)

# Forward-only order of delivery states. Ours (pending, requesting, unknown) come before any of Twilio's.
STATUS_RANK: dict[str, int] = {
    MessageStatus.PENDING: 0,
    MessageStatus.SENDING_REQUEST: 0,
    MessageStatus.UNKNOWN: 0,
    MessageStatus.ACCEPTED: 1,
    MessageStatus.SCHEDULED: 1,
    MessageStatus.QUEUED: 2,
    MessageStatus.SENDING: 3,
    MessageStatus.SENT: 4,
    MessageStatus.DELIVERED: 6,
    MessageStatus.UNDELIVERED: 6,
    MessageStatus.FAILED: 6,
    MessageStatus.CANCELED: 6,
    MessageStatus.READ: 7,
}
TERMINAL_FAILURES = frozenset({MessageStatus.UNDELIVERED, MessageStatus.FAILED, MessageStatus.CANCELED})


def statuses_before(status: str) -> list[str]:
    """The states from which `status` may be entered. A failure never becomes `read`; terminal stays terminal."""
    rank = STATUS_RANK[status]
    return [s for s, r in STATUS_RANK.items() if r < rank and not (status == "read" and s in TERMINAL_FAILURES)]


async def conversation_for(session: AsyncSession, phone: str, now: datetime) -> int:
    """Get or create the conversation of a contact, atomically (safe under concurrent webhooks)."""
    stmt = (
        insert_for(session, Conversation)
        .values(phone=phone, state="idle", state_data={}, last_inbound_at=now, created_at=now, updated_at=now)
        .on_conflict_do_update(index_elements=["phone"], set_={"last_inbound_at": now})  # type: ignore[attr-defined]
        .returning(Conversation.id)
    )
    return int((await session.execute(stmt)).scalar_one())


async def claim_inbound(session: AsyncSession, values: dict[str, Any]) -> int | None:
    """Insert an inbound message unless its SID is already stored. Returns the new id, or None for a repeat."""
    stmt = (
        insert_for(session, Message)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["external_sid"])  # type: ignore[attr-defined]
        .returning(Message.id)
    )
    found = (await session.execute(stmt)).scalar_one_or_none()
    return None if found is None else int(found)


async def lock_contact(session: AsyncSession, conversation_id: int) -> None:
    """Serialise work on one contact across processes, until the transaction ends.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: every transaction starts with BEGIN IMMEDIATE
    (storage.db), which already holds the database's single write lock until commit.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:ns, :key)"),
            {"ns": 0x43A1, "key": conversation_id % 2_147_483_647},
        )


async def is_opted_out(session: AsyncSession, phone: str) -> bool:
    return (await session.get(OptOut, phone)) is not None


async def record_opt_out(
    session: AsyncSession, phone: str, source: str, now: datetime, message_id: int | None = None
) -> bool:
    """Add the number to the suppression list. Returns True when it was not opted out before."""
    stmt = (
        insert_for(session, OptOut)
        .values(phone=phone, source=source, opted_out_at=now)
        .on_conflict_do_nothing(index_elements=["phone"])  # type: ignore[attr-defined]
        .returning(OptOut.phone)
    )
    added = (await session.execute(stmt)).scalar_one_or_none() is not None
    if added:
        session.add(ConsentEvent(phone=phone, action="opt_out", source=source, message_id=message_id, at=now))
    return added


async def record_opt_in(
    session: AsyncSession, phone: str, source: str, now: datetime, message_id: int | None = None
) -> bool:
    """Remove the number from the suppression list. Returns True when it was opted out before."""
    result = await session.execute(delete(OptOut).where(OptOut.phone == phone))
    removed = bool(getattr(result, "rowcount", 0))
    if removed:
        session.add(ConsentEvent(phone=phone, action="opt_in", source=source, message_id=message_id, at=now))
    return removed


async def patient_by_phone(session: AsyncSession, phone: str) -> Patient | None:
    return (await session.execute(select(Patient).where(Patient.phone == phone))).scalar_one_or_none()


async def record_status_event(session: AsyncSession, sid: str, status: str, code: int | None, now: datetime) -> bool:
    """Store a delivery callback once per (SID, status). Returns False for a duplicate."""
    stmt = (
        insert_for(session, MessageStatusEvent)
        .values(sid=sid, status=status, error_code=code, received_at=now)
        .on_conflict_do_nothing(index_elements=["sid", "status"])  # type: ignore[attr-defined]
        .returning(MessageStatusEvent.id)
    )
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def advance_status(session: AsyncSession, sid: str, status: str, code: int | None, now: datetime) -> bool:
    """Move a message forward to `status` if that is forward from where it is. Returns True if it moved."""
    if status not in STATUS_RANK:
        return False
    values: dict[str, Any] = {"status": status, "status_updated_at": now}
    if code is not None:
        values["error_code"] = code
    result = await session.execute(
        update(Message).where(Message.external_sid == sid, Message.status.in_(statuses_before(status))).values(**values)
    )
    return bool(getattr(result, "rowcount", 0))


async def replay_status_events(session: AsyncSession, sid: str, now: datetime) -> None:
    """Apply callbacks that arrived before we stored the SID (Twilio can call back before create returns)."""
    events = (await session.execute(select(MessageStatusEvent).where(MessageStatusEvent.sid == sid))).scalars()
    for event in sorted(events, key=lambda e: STATUS_RANK.get(e.status, -1)):
        await advance_status(session, sid, event.status, event.error_code, now)


async def audit(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | int,
    now: datetime,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditLog(at=now, actor=actor, action=action, entity=entity, entity_id=str(entity_id), detail=detail or {})
    )


async def pending_inbound(session: AsyncSession, conversation_id: int) -> list[Message]:
    rows = await session.execute(
        select(Message)
        .where(
            Message.conversation_id == conversation_id,
            Message.direction == Direction.INBOUND,
            Message.processed_at.is_(None),
        )
        .order_by(Message.id)
        .execution_options(populate_existing=True)
    )
    return list(rows.scalars())


def select_conversation_phone(conversation_id: int) -> Any:
    return select(Conversation.phone).where(Conversation.id == conversation_id)


def _pg_claim_statement() -> Any:
    """PostgreSQL: get-or-create the conversation and claim the SID in ONE statement (one round trip, atomic
    without an explicit transaction). Built once; executed with the parameters of INBOUND_PARAMS."""
    from sqlalchemy import JSON, Integer, String, Text, bindparam, cast, literal
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    from storage.types import UTCDateTime

    now = bindparam("now", type_=UTCDateTime())
    conversation = (
        pg_insert(Conversation)
        .values(
            phone=bindparam("phone", type_=String()),
            state=literal("idle"),
            state_data=bindparam("empty", type_=JSON()),
            last_inbound_at=now,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_update(index_elements=["phone"], set_={"last_inbound_at": now})
        .returning(Conversation.id)
        .cte("conversation")
    )
    columns: dict[str, TypeEngine[Any]] = {
        "direction": String(),
        "channel": String(),
        "external_sid": String(),
        "from_number": String(),
        "to_number": String(),
        "body": Text(),
        "status": String(),
        "num_segments": Integer(),
        "encoding": String(),
        "kind": String(),
        "attempts": Integer(),
        "meta": JSON(),
    }
    source: Any = select(
        conversation.c.id,
        *(bindparam(name, type_=type_) for name, type_ in columns.items()),
        now.label("created_at"),
        now.label("status_updated_at"),
    )
    claimed = (
        pg_insert(Message)
        .from_select(["conversation_id", *columns, "created_at", "status_updated_at"], source)
        .on_conflict_do_nothing(index_elements=["external_sid"])
        .returning(Message.id)
        .cte("claimed")
    )
    # NOTIFY rides on the same statement (delivered when it commits): the workers' dispatcher (bot/dispatch.py)
    # queues the processing, so the webhook makes no second round trip. A retried SID claims nothing and
    # notifies nothing.
    return select(claimed.c.id, func.pg_notify(INBOUND_CHANNEL, cast(claimed.c.id, Text())))


# The PostgreSQL NOTIFY channel carrying the id (never the text) of each newly stored inbound message.
INBOUND_CHANNEL = "careline_inbound"
PG_CLAIM_INBOUND = _pg_claim_statement()

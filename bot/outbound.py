"""The outbox: every outbound text is a row first, then a `send_message` job sends it at most once.

States: pending -> requesting (claimed, REST call in flight) -> Twilio's states (queued, sent, delivered …),
or pending again with a backoff (429 / 5xx), or unknown after a timeout (reconcile before any retry), or
suppressed (opted out), expired (time-to-live passed) or failed (21610, permanent error, out of attempts).
"""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import metrics
from bot.logging import get_logger
from bot.services import Services
from channels.phone import mask
from channels.segments import count_segments
from channels.types import (
    AmbiguousSendError,
    OutboundMessage,
    RecipientOptedOut,
    RetryableSendError,
    SendError,
)
from storage import repo
from storage.models import Direction, Message, MessageStatus

log = get_logger(__name__)

# Kinds that may reach an opted-out number: the one confirmation of an opt-out (FCC 24-18), HELP answers.
CONSENT_EXEMPT_KINDS = frozenset({"consent_confirmation", "help"})
# Kinds sent to staff, never to patients: the patient suppression list does not apply to them.
STAFF_KINDS = frozenset({"page", "alert", "staff_reply"})
# Waits up to this long for the sender's rate limit inside the job; longer backlogs are deferred.
MAX_INLINE_WAIT_S = 5.0


def new_outbound(
    *,
    conversation_id: int,
    patient_id: int | None,
    to: str,
    sender: str,
    body: str,
    kind: str,
    now: datetime,
    ttl_s: int,
) -> Message:
    info = count_segments(body)
    return Message(
        conversation_id=conversation_id,
        patient_id=patient_id,
        direction=Direction.OUTBOUND,
        channel="sms",
        from_number=sender,
        to_number=to,
        body=body,
        status=MessageStatus.PENDING,
        num_segments=info.segments,
        encoding=info.encoding,
        kind=kind,
        attempts=0,
        next_attempt_at=now,
        expires_at=now + timedelta(seconds=ttl_s),
        created_at=now,
        status_updated_at=now,
        meta={},
    )


async def queue_text(
    session: AsyncSession,
    services: Services,
    *,
    conversation_id: int,
    patient_id: int | None,
    to: str,
    body: str,
    kind: str,
    now: datetime,
    ttl_s: int | None = None,
    sender: str = "",
) -> Message:
    """Add an outbox row in the caller's transaction. Enqueue `send_message` for it after commit.

    ``sender``: the From number; empty = CARELINE_SMS_FROM (or the Messaging Service)."""
    settings = services.settings
    msg = new_outbound(
        conversation_id=conversation_id,
        patient_id=patient_id,
        to=to,
        sender=sender or settings.sms_from or settings.messaging_service_sid or "careline",
        body=body,
        kind=kind,
        now=now,
        ttl_s=settings.sms_ttl_s if ttl_s is None else ttl_s,
    )
    session.add(msg)
    await session.flush()
    return msg


async def enqueue_send(services: Services, message_id: int, defer_s: float = 0) -> None:
    """Queue a send job. If the queue is down the row stays pending and the sweeper queues it later."""
    try:
        await services.queue.enqueue("send_message", message_id, defer_s=defer_s)
    except Exception as exc:
        log.warning("enqueue_failed", job="send_message", message_id=message_id, error=type(exc).__name__)


def backoff_s(attempt: int, base: float, cap: float = 60.0) -> float:
    """Exponential backoff with full jitter (never a thundering herd against Twilio)."""
    return random.uniform(base, min(cap, base * 2 ** max(attempt, 1)))  # noqa: S311 (jitter, not crypto)


async def send_message(services: Services, message_id: int) -> None:
    """Job: send one outbox row, at most once. Safe to run twice or concurrently."""
    settings = services.settings
    now = services.now()
    async with services.sessions() as session, session.begin():
        msg = await session.get(Message, message_id)
        if msg is None or msg.direction != Direction.OUTBOUND or msg.status != MessageStatus.PENDING:
            return
        if msg.next_attempt_at is not None and msg.next_attempt_at > now + timedelta(seconds=1):
            return  # a stray early run: the deferred job (or the sweeper) will come back for it
        if msg.expires_at is not None and now >= msg.expires_at:
            msg.status = MessageStatus.EXPIRED
            msg.status_updated_at = now
            metrics.OUTBOUND.labels(status="expired").inc()
            log.info("outbound_expired", message_id=msg.id)
            return
        if (
            msg.kind not in CONSENT_EXEMPT_KINDS
            and msg.kind not in STAFF_KINDS
            and await repo.is_opted_out(session, msg.to_number)
        ):
            msg.status = MessageStatus.SUPPRESSED
            msg.status_updated_at = now
            metrics.OUTBOUND.labels(status="suppressed").inc()
            log.info("outbound_suppressed", message_id=msg.id, to=mask(msg.to_number))
            return
        segments, sender_key = msg.num_segments, msg.from_number
        to, body, expires_at = msg.to_number, msg.body, msg.expires_at

    async with services.sessions() as session, session.begin():
        claimed = await session.execute(
            update(Message)
            .where(Message.id == message_id, Message.status == MessageStatus.PENDING)
            .values(status=MessageStatus.SENDING_REQUEST, attempts=Message.attempts + 1, status_updated_at=now)
        )
        if not getattr(claimed, "rowcount", 0):
            return  # another worker took it

    # The rate limit is taken after the claim, right before the request, so requests leave spaced out.
    wait = await services.limiter.try_acquire(
        f"sms:{sender_key}", segments, settings.sms_segments_per_second, burst_s=settings.sms_burst_s
    )
    while 0 < wait <= MAX_INLINE_WAIT_S:
        await asyncio.sleep(wait)
        wait = await services.limiter.try_acquire(
            f"sms:{sender_key}", segments, settings.sms_segments_per_second, burst_s=settings.sms_burst_s
        )
    if wait > 0:
        # A long backlog: give the claim back and come back later instead of holding a worker slot.
        async with services.sessions() as session, session.begin():
            await session.execute(
                update(Message)
                .where(Message.id == message_id, Message.status == MessageStatus.SENDING_REQUEST)
                .values(
                    status=MessageStatus.PENDING,
                    attempts=Message.attempts - 1,
                    next_attempt_at=now + timedelta(seconds=wait),
                )
            )
        await enqueue_send(services, message_id, defer_s=wait)
        return

    validity = None if expires_at is None else int((expires_at - now).total_seconds())
    outbound = OutboundMessage(
        to=to,
        body=body,
        # the row's own From number (pages may have one of their own); a Messaging Service SID is the default
        sender=sender_key if sender_key.startswith("+") else "",
        status_callback=services.status_callback_url,
        validity_period_s=validity,
    )
    try:
        result = await services.sender.send(outbound)
    except SendError as exc:
        await _record_failure(services, message_id, exc)
        return
    except Exception as exc:  # a bug or an unexpected transport error: treat as "may have been sent"
        log.exception("send_unexpected_error", message_id=message_id)
        await _record_failure(services, message_id, AmbiguousSendError(type(exc).__name__))
        return
    await _record_sent(services, message_id, result.sid, result.status, result.num_segments)


async def _record_sent(services: Services, message_id: int, sid: str, status: str, segments: int | None) -> None:
    now = services.now()
    async with services.sessions() as session, session.begin():
        msg = await session.get(Message, message_id)
        if msg is None:
            return
        msg.external_sid = sid
        msg.sent_at = now
        msg.status_updated_at = now
        msg.status = status if status in repo.STATUS_RANK else MessageStatus.QUEUED
        if segments:
            msg.num_segments = segments
        await session.flush()
        await repo.replay_status_events(session, sid, now)
    metrics.OUTBOUND.labels(status="sent").inc()
    log.info("outbound_sent", message_id=message_id, sid=sid)


async def _record_failure(services: Services, message_id: int, exc: SendError) -> None:
    settings = services.settings
    now = services.now()
    retry_in: float | None = None
    reconcile = False
    async with services.sessions() as session, session.begin():
        msg = await session.get(Message, message_id)
        if msg is None or msg.status != MessageStatus.SENDING_REQUEST:
            return
        msg.status_updated_at = now
        msg.error_code = exc.code
        msg.error_message = str(exc)[:500]
        if isinstance(exc, RecipientOptedOut):
            msg.status = MessageStatus.FAILED
            await repo.record_opt_out(session, msg.to_number, "carrier_21610", now)
            log.info("recipient_opted_out_at_carrier", message_id=message_id, to=mask(msg.to_number))
        elif isinstance(exc, RetryableSendError) and msg.attempts < settings.send_max_attempts:
            retry_in = backoff_s(msg.attempts, settings.send_backoff_base_s)
            msg.status = MessageStatus.PENDING
            msg.next_attempt_at = now + timedelta(seconds=retry_in)
        elif isinstance(exc, AmbiguousSendError):
            msg.status = MessageStatus.UNKNOWN
            reconcile = True
        else:
            msg.status = MessageStatus.FAILED
    metrics.OUTBOUND.labels(status=type(exc).__name__).inc()
    log.warning("outbound_send_error", message_id=message_id, error=type(exc).__name__, code=exc.code)
    if retry_in is not None:
        await enqueue_send(services, message_id, defer_s=retry_in)
    if reconcile:
        try:
            await services.queue.enqueue("reconcile_message", message_id, defer_s=services.settings.reconcile_delay_s)
        except Exception as qexc:
            log.warning("enqueue_failed", job="reconcile_message", error=type(qexc).__name__)


async def reconcile_message(services: Services, message_id: int) -> None:
    """Job: after a timeout (or a worker that died mid-request), find out whether Twilio has the message.

    Found: adopt its SID and state. Not found: it was never created, so sending again cannot duplicate it.
    """
    settings = services.settings
    now = services.now()
    async with services.sessions() as session:
        msg = await session.get(Message, message_id)
        if msg is None or msg.status not in (MessageStatus.UNKNOWN, MessageStatus.SENDING_REQUEST):
            return
        to, sender, body = msg.to_number, msg.from_number, msg.body
        since = msg.created_at
    try:
        found = await services.sender.find_sent(to, sender if sender.startswith("+") else "", body, since)
    except SendError as exc:
        log.warning("reconcile_lookup_failed", message_id=message_id, error=type(exc).__name__)
        try:
            await services.queue.enqueue("reconcile_message", message_id, defer_s=settings.reconcile_delay_s)
        except Exception as qexc:
            log.warning("enqueue_failed", job="reconcile_message", error=type(qexc).__name__)
        return
    if found is not None:
        await _adopt(services, message_id, found.sid, found.status)
        return
    retry = msg.attempts < settings.send_max_attempts
    async with services.sessions() as session, session.begin():
        moved = await _settle_in_flight(
            session,
            message_id,
            status=MessageStatus.PENDING if retry else MessageStatus.FAILED,
            next_attempt_at=now,
            status_updated_at=now,
        )
    resend = moved and retry
    log.info("reconciled_not_found", message_id=message_id, resend=resend)
    if resend:
        await enqueue_send(services, message_id)


async def _adopt(services: Services, message_id: int, sid: str, status: str) -> None:
    now = services.now()
    async with services.sessions() as session, session.begin():
        adopted = await _settle_in_flight(
            session,
            message_id,
            external_sid=sid,
            status=status if status in repo.STATUS_RANK else MessageStatus.QUEUED,
            sent_at=now,
            status_updated_at=now,
            error_code=None,
            error_message=None,
        )
        if adopted:
            await repo.replay_status_events(session, sid, now)
    log.info("reconciled_found", message_id=message_id, sid=sid)


async def _settle_in_flight(session: AsyncSession, message_id: int, **values: object) -> bool:
    """Update a message whose fate was unknown (timed out, or its worker died mid-request), if it still is."""
    result = await session.execute(
        update(Message)
        .where(
            Message.id == message_id,
            Message.status.in_((MessageStatus.UNKNOWN, MessageStatus.SENDING_REQUEST)),
        )
        .values(**values)
    )
    return bool(getattr(result, "rowcount", 0))

"""Store an inbound message exactly once and queue its processing (shared by the webhook and `careline chat`)."""

from __future__ import annotations

from bot import metrics
from bot.dispatch import dispatch_by_notify
from bot.logging import get_logger
from bot.paging import enqueue_inbound
from bot.services import Services
from channels.phone import mask
from channels.types import InboundMessage
from storage import repo
from storage.db import retry_on_disconnect
from storage.models import Direction, MessageStatus

log = get_logger(__name__)


async def store_inbound(services: Services, inbound: InboundMessage) -> int | None:
    """Claim the message's SID and store it, with its conversation, in one transaction.

    Returns the new message id, or None when this SID was already stored (a retried delivery).
    """
    now = inbound.received_at
    meta: dict[str, object] = {}
    if inbound.media_urls:
        meta["media_urls"] = list(inbound.media_urls)
    if inbound.opt_out_type:
        meta["opt_out_type"] = inbound.opt_out_type
    values: dict[str, object] = {
        "direction": Direction.INBOUND.value,
        "channel": inbound.channel.value,
        "external_sid": inbound.external_id,
        "from_number": inbound.sender,
        "to_number": inbound.recipient,
        "body": inbound.text,
        "status": MessageStatus.RECEIVED.value,
        "num_segments": inbound.num_segments,
        "encoding": "",
        "kind": "inbound",
        "attempts": 0,
        "meta": meta,
    }
    message_id: int | None
    if services.engine.dialect.name == "postgresql":
        # One statement, one round trip, atomic on its own: no BEGIN/COMMIT around it.
        params = {**values, "phone": inbound.sender, "now": now, "empty": {}}

        async def claim() -> int | None:
            async with services.autocommit_engine.connect() as conn:
                return (await conn.execute(repo.PG_CLAIM_INBOUND, params)).scalar_one_or_none()

        # A connection the server dropped (restart, failover) is retried once on a fresh one. Should the lost
        # attempt have stored the text after all, the retry reads as a duplicate and the sweeper queues it.
        found = await retry_on_disconnect(claim)
        message_id = None if found is None else int(found)
    else:
        async with services.sessions() as session, session.begin():
            conversation_id = await repo.conversation_for(session, inbound.sender, now)
            message_id = await repo.claim_inbound(
                session,
                {**values, "conversation_id": conversation_id, "created_at": now, "status_updated_at": now},
            )
    if message_id is None:
        metrics.INBOUND.labels(outcome="duplicate").inc()
        log.info("inbound_duplicate", sid=inbound.external_id)
        return None
    metrics.INBOUND.labels(outcome="stored").inc()
    log.debug("inbound_stored", message_id=message_id, sender=mask(inbound.sender))
    if dispatch_by_notify(services):
        return message_id  # the statement's NOTIFY reaches the workers' dispatcher (bot/dispatch.py)
    try:
        # Urgent-looking texts jump the job queue (bot/paging.py); the rest are first come, first served.
        await enqueue_inbound(services, message_id, inbound.text)
    except Exception as exc:
        # Stored is what matters: the sweeper queues it once the queue is back.
        log.warning("enqueue_failed", job="process_inbound", message_id=message_id, error=type(exc).__name__)
    return message_id

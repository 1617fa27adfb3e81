"""Processing inbound texts: one contact at a time, in arrival order, exactly once.

The job for a message takes the contact's lock, then loads state (aiogram #1317: never before the lock), then
handles every unprocessed inbound text of that contact in order, marking each processed in the same
transaction as the outbox rows it produced. Sends are queued after commit. Running it twice does nothing.
"""

from __future__ import annotations

from sqlalchemy import select

from bot import metrics
from bot.logging import get_logger
from bot.outbound import enqueue_send
from bot.router import HandleContext, handle_message
from bot.services import Services
from storage import repo
from storage.models import Conversation, Message

log = get_logger(__name__)


async def process_inbound(services: Services, message_id: int) -> None:
    async with services.sessions() as session:
        row = (
            await session.execute(select(Message.conversation_id, Message.processed_at).where(Message.id == message_id))
        ).one_or_none()
    if row is None or row.processed_at is not None:
        return
    await process_conversation(services, int(row.conversation_id))


async def process_conversation(services: Services, conversation_id: int) -> int:
    """Handle every pending inbound text of one contact. Returns how many were handled."""
    outbox: list[int] = []
    handled = 0
    async with services.sessions() as session, session.begin():
        await repo.lock_contact(session, conversation_id)
        conversation = await session.get(Conversation, conversation_id, populate_existing=True)
        if conversation is None:
            return 0
        for message in await repo.pending_inbound(session, conversation_id):
            now = services.now()
            patient = await repo.patient_by_phone(session, conversation.phone)
            if patient is not None and conversation.patient_id != patient.id:
                conversation.patient_id = patient.id
            if patient is not None and message.patient_id is None:
                message.patient_id = patient.id
            ctx = HandleContext(services=services, session=session, now=now, conversation=conversation, patient=patient)
            created = await handle_message(ctx, message)
            outbox.extend(m.id for m in created)
            message.processed_at = now
            conversation.updated_at = now
            handled += 1
    for message_id in outbox:
        await enqueue_send(services, message_id)
    if handled:
        metrics.INBOUND.labels(outcome="processed").inc(handled)
        log.info("inbound_processed", conversation_id=conversation_id, count=handled)
    return handled

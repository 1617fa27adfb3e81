"""Job functions by name (the same registry serves arq and the in-process queue), and the sweeper."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, or_, select

from bot.jobs import JobFunc
from bot.logging import get_logger
from bot.outbound import reconcile_message, send_message
from bot.paging import fire_step, flush_after_commit, place_call, sweep_paging
from bot.processing import process_inbound
from bot.services import Services
from storage.models import Direction, Message, MessageStatus

log = get_logger(__name__)


async def sweep(services: Services) -> dict[str, int]:
    """Re-queue whatever a lost job left undone: the timers' and the inbox's safety net.

    Inbound texts stored while the queue was down, outbox rows whose job vanished, and sends whose worker
    died mid-request (they are reconciled, never blindly re-sent).
    """
    settings = services.settings
    now = services.now()
    counts = {"inbound": 0, "send": 0, "reconcile": 0}
    async with services.sessions() as session:
        inbound = await session.execute(
            select(func.min(Message.id))
            .where(
                Message.direction == Direction.INBOUND,
                Message.processed_at.is_(None),
                Message.created_at < now - timedelta(seconds=settings.inbound_stale_s),
            )
            .group_by(Message.conversation_id)
        )
        inbound_ids = [int(i) for i in inbound.scalars()]
        sends = await session.execute(
            select(Message.id).where(
                Message.status == MessageStatus.PENDING,
                Message.direction == Direction.OUTBOUND,
                or_(Message.next_attempt_at.is_(None), Message.next_attempt_at < now - timedelta(seconds=5)),
            )
        )
        send_ids = [int(i) for i in sends.scalars()]
        stale = await session.execute(
            select(Message.id).where(
                or_(
                    (Message.status == MessageStatus.SENDING_REQUEST)
                    & (Message.status_updated_at < now - timedelta(seconds=settings.sending_stale_s)),
                    (Message.status == MessageStatus.UNKNOWN)
                    & (Message.status_updated_at < now - timedelta(seconds=2 * settings.reconcile_delay_s)),
                )
            )
        )
        reconcile_ids = [int(i) for i in stale.scalars()]
    for message_id in inbound_ids:
        counts["inbound"] += await services.queue.enqueue(
            "process_inbound", message_id, job_id=f"inbound:{message_id}:sweep:{now:%Y%m%d%H%M}"
        )
    for message_id in send_ids:
        counts["send"] += await services.queue.enqueue("send_message", message_id)
    for message_id in reconcile_ids:
        counts["reconcile"] += await services.queue.enqueue("reconcile_message", message_id)
    if any(counts.values()):
        log.info("sweep_requeued", **counts)
    paging = await sweep_paging(services)  # paging timers whose job was lost, voice pages (bot/paging.py)
    counts.update({f"paging_{name}": n for name, n in paging.items()})
    return counts


async def sweep_job(services: Services) -> None:
    await sweep(services)


def _flushing(fn: JobFunc) -> JobFunc:
    """Finish the job only once the jobs its transactions queued after commit are enqueued (bot/paging.py)."""

    async def job(services: Services, *args: int | str) -> None:
        try:
            await fn(services, *args)
        finally:
            await flush_after_commit()

    return job


REGISTRY: dict[str, JobFunc] = {
    "process_inbound": _flushing(process_inbound),
    "send_message": send_message,
    "reconcile_message": reconcile_message,
    "sweep": sweep_job,
    "fire_step": _flushing(fire_step),
    "place_call": place_call,
}

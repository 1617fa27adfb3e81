"""The inbound dispatcher: on PostgreSQL with arq, the workers (not the webhook) queue each stored text's processing.

The webhook's one statement stores the text and NOTIFYs its id (storage.repo.PG_CLAIM_INBOUND), so answering
Twilio costs one database round trip and nothing else. Every `careline worker` LISTENs; each notified id is
read back, pre-screened by triage for the priority lane (bot.paging.enqueue_inbound) and queued under the job
id ``inbound:<id>``, which arq refuses twice: several workers hearing the same NOTIFY queue it once.

A NOTIFY sent while no worker listens is lost, so on every (re)connection the dispatcher first queues every
text still unprocessed; the sweeper stays the last safety net.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.jobs import ArqQueue
from bot.logging import get_logger
from bot.paging import enqueue_inbound
from bot.services import Services
from storage.models import Direction, Message
from storage.repo import INBOUND_CHANNEL

log = get_logger(__name__)

CATCH_UP_LIMIT = 5000  # per batch; the catch-up reads batches until nothing unprocessed is left
RECONNECT_MAX_S = 5.0


def dispatch_by_notify(services: Services) -> bool:
    """Whether inbound texts are queued by the workers' dispatcher (PostgreSQL + arq) instead of the webhook."""
    return services.engine.dialect.name == "postgresql" and isinstance(services.queue, ArqQueue)


def asyncpg_dsn(database_url: str) -> str:
    """The plain libpq-style DSN asyncpg takes, from SQLAlchemy's ``postgresql+asyncpg://`` URL."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class InboundDispatcher:
    """LISTEN on the inbound channel with a dedicated connection; queue what arrives; reconnect and catch up."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._pending: set[int] = set()
        self._wake = asyncio.Event()
        self._conn: Any | None = None  # asyncpg.Connection
        self._tasks: list[asyncio.Task[None]] = []
        self.connected = asyncio.Event()

    async def start(self) -> None:
        """Connect, LISTEN and queue the backlog before returning (a worker in burst mode finds the jobs), then
        keep listening in the background. A database that is down now is retried in the background."""
        try:
            await self._connect()
        except Exception as exc:
            log.warning("dispatcher_connect_failed", error=type(exc).__name__)
        self._tasks = [
            asyncio.create_task(self._supervise(), name="inbound-dispatcher"),
            asyncio.create_task(self._drain(), name="inbound-dispatch-queue"),
        ]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self._disconnect()

    # ---- connection ------------------------------------------------------------------------------------------
    async def _connect(self) -> None:
        import asyncpg

        conn = await asyncpg.connect(asyncpg_dsn(self._services.settings.database_url), timeout=10)
        try:
            await conn.add_listener(INBOUND_CHANNEL, self._on_notify)
            self._conn = conn
        except BaseException:
            self._conn = None
            await conn.close()
            raise
        self.connected.set()
        log.info("dispatcher_listening", channel=INBOUND_CHANNEL)
        # Listening first, then the backlog: a text stored in between is both notified and caught up, and
        # queued once (same job id).
        try:
            await self._catch_up()
        except Exception as exc:
            # Redis is down: keep listening; the sweeper queues the backlog once it is back.
            log.warning("dispatch_failed", during="catch_up", error=type(exc).__name__)

    async def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        self.connected.clear()
        if conn is not None and not conn.is_closed():
            with contextlib.suppress(Exception):
                await conn.close(timeout=2)

    async def _supervise(self) -> None:
        delay = 0.2
        while True:
            conn = self._conn
            if conn is not None and not conn.is_closed():
                await asyncio.sleep(0.5)  # asyncpg marks the connection closed as soon as the server drops it
                delay = 0.2
                continue
            if conn is not None:
                log.warning("dispatcher_connection_lost")
                await self._disconnect()
            try:
                await self._connect()
            except Exception as exc:
                log.warning("dispatcher_connect_failed", error=type(exc).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX_S)

    # ---- dispatching -----------------------------------------------------------------------------------------
    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            self._pending.add(int(payload))
        except ValueError:
            log.warning("dispatcher_bad_payload")
            return
        self._wake.set()

    async def _drain(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            ids, self._pending = sorted(self._pending), set()
            try:
                await self._dispatch(ids)
            except Exception as exc:
                # Redis or the database is down: the next catch-up or the sweeper queues these.
                log.warning("dispatch_failed", count=len(ids), error=type(exc).__name__)

    async def _dispatch(self, ids: list[int]) -> int:
        if not ids:
            return 0
        services = self._services
        async with services.sessions() as session:
            rows = (
                await session.execute(
                    select(Message.id, Message.body)
                    .where(Message.id.in_(ids), Message.processed_at.is_(None))
                    .order_by(Message.id)
                )
            ).all()
        for message_id, body in rows:
            await enqueue_inbound(services, int(message_id), body or "")
        return len(rows)

    async def _catch_up(self) -> None:
        services = self._services
        after = 0
        total = 0
        while True:
            async with services.sessions() as session:
                ids = [
                    int(i)
                    for i in (
                        await session.execute(
                            select(Message.id)
                            .where(
                                Message.direction == Direction.INBOUND,
                                Message.processed_at.is_(None),
                                Message.id > after,
                            )
                            .order_by(Message.id)
                            .limit(CATCH_UP_LIMIT)
                        )
                    ).scalars()
                ]
            if not ids:
                break
            total += await self._dispatch(ids)
            after = ids[-1]
        if total:
            log.info("dispatcher_caught_up", queued=total)

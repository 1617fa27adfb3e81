"""The job-queue seam: an arq/Redis implementation and an in-process one (the embedded default).

Jobs take IDs, never ORM objects, and may run more than once: every job checks the database before acting.
A job id dedupes enqueues (arq's `_job_id`); ids are per logical unit (a message, an attempt) so a later
legitimate run is never refused.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol

from bot.logging import get_logger

if TYPE_CHECKING:
    from arq.connections import ArqRedis

    from bot.services import Services

JobArg = int | str
JobFunc = Callable[..., Awaitable[None]]

log = get_logger(__name__)


class JobQueue(Protocol):
    async def enqueue(self, name: str, *args: JobArg, job_id: str | None = None, defer_s: float = 0) -> bool:
        """Queue a job. Returns False when an identical job id is already queued. Raises if the queue is down."""
        ...

    async def close(self) -> None: ...


class InProcessQueue:
    """Runs jobs as asyncio tasks in this process. For the embedded single-process mode and for tests."""

    def __init__(self, registry: dict[str, JobFunc]) -> None:
        self._registry = registry
        self._services: Services | None = None
        self._pending: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._deferred: set[asyncio.Task[None]] = set()  # tasks still waiting for their due time
        self._closed = False

    def bind(self, services: Services) -> None:
        self._services = services

    async def enqueue(self, name: str, *args: JobArg, job_id: str | None = None, defer_s: float = 0) -> bool:
        if name not in self._registry:
            raise KeyError(f"unknown job {name!r}")
        if self._closed:
            raise RuntimeError("job queue is closed")
        if job_id is not None:
            if job_id in self._pending:
                return False
            self._pending.add(job_id)
        task = asyncio.create_task(self._run(name, args, job_id, defer_s), name=f"job:{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _run(self, name: str, args: tuple[JobArg, ...], job_id: str | None, defer_s: float) -> None:
        try:
            if defer_s > 0:
                task = asyncio.current_task()
                if task is not None:
                    self._deferred.add(task)
                try:
                    await asyncio.sleep(defer_s)
                finally:
                    if task is not None:
                        self._deferred.discard(task)
            if job_id is not None:
                self._pending.discard(job_id)
            services = self._services
            if services is None:
                raise RuntimeError("InProcessQueue used before bind()")
            await self._registry[name](services, *args)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The sweeper re-queues whatever a failed job left undone; log without PHI.
            log.exception("job_failed", job=name)
        finally:
            if job_id is not None:
                self._pending.discard(job_id)

    async def drain(self, timeout: float = 10.0, *, include_deferred: bool = True) -> None:  # noqa: ASYNC109
        """Wait until no job is running or waiting to run (for tests and `careline chat`).

        With include_deferred=False, jobs deferred to a later time (an escalation step's timer) don't count."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while waiting := (self._tasks if include_deferred else self._tasks - self._deferred):
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"{len(waiting)} jobs still running")
            await asyncio.wait(set(waiting), timeout=min(remaining, 0.05), return_when=asyncio.FIRST_COMPLETED)

    async def close(self) -> None:
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


# arq's enqueue, in one round trip: the same keys, job encoding and "refused while queued, running or kept"
# rule as ArqRedis.enqueue_job, whose WATCH/EXISTS/MULTI dance costs three (each loopback syscall counts here).
_ENQUEUE = """
if redis.call('EXISTS', KEYS[1], KEYS[2], KEYS[3]) > 0 then return 0 end
redis.call('PSETEX', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[4])
return 1
"""


class ArqQueue:
    """Jobs go to Redis; `careline worker` runs them (several workers may run side by side)."""

    def __init__(self, redis: ArqRedis, queue_name: str) -> None:
        self._redis = redis
        self._queue_name = queue_name
        self._script = redis.register_script(_ENQUEUE)

    async def enqueue(self, name: str, *args: JobArg, job_id: str | None = None, defer_s: float = 0) -> bool:
        from arq.constants import in_progress_key_prefix, job_key_prefix, result_key_prefix
        from arq.jobs import serialize_job

        job_id = job_id or uuid.uuid4().hex
        enqueue_ms = int(time.time() * 1000)
        defer_ms = int(defer_s * 1000) if defer_s > 0 else 0
        score = enqueue_ms + defer_ms
        expires_ms = defer_ms + self._redis.expires_extra_ms
        payload = serialize_job(name, args, {}, None, enqueue_ms, serializer=self._redis.job_serializer)
        keys = [job_key_prefix + job_id, in_progress_key_prefix + job_id, result_key_prefix + job_id, self._queue_name]
        added = await self._script(keys=keys, args=[expires_ms, payload, score, job_id])
        return bool(added)

    async def close(self) -> None:
        return None  # the Redis connection belongs to Services, which closes it

"""The Services container: everything a handler or job needs, opened once per process and closed on exit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.jobs import ArqQueue, InProcessQueue, JobQueue
from bot.logging import get_logger
from bot.ratelimit import LocalRateLimiter, RateLimiter, RedisRateLimiter
from bot.settings import Settings
from channels.console import ConsoleSender
from channels.twilio.voice import CallPlacer, ConsoleCallPlacer
from channels.types import MessageSender
from storage.db import create_engine, session_factory

log = get_logger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    queue: JobQueue
    sender: MessageSender
    limiter: RateLimiter
    redis: Any | None  # redis.asyncio.Redis (arq's pool) when CARELINE_REDIS_URL is set
    clock: Callable[[], datetime] = utc_now
    caller: CallPlacer = field(default_factory=ConsoleCallPlacer)  # voice pages

    @property
    def autocommit_engine(self) -> AsyncEngine:
        """The same pool, without BEGIN/COMMIT: for single statements that are atomic on their own."""
        engine = self.__dict__.get("_autocommit")
        if engine is None:
            engine = self.engine.execution_options(isolation_level="AUTOCOMMIT")
            self.__dict__["_autocommit"] = engine
        return engine

    def now(self) -> datetime:
        return self.clock()

    @property
    def status_callback_url(self) -> str:
        return f"{self.settings.public_url}/twilio/sms/status"

    async def check_ready(self) -> dict[str, str]:
        """What /readyz reports: each dependency 'ok' or the error's type name."""
        result: dict[str, str] = {}
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            result["database"] = "ok"
        except Exception as exc:
            result["database"] = type(exc).__name__
        if self.redis is not None:
            try:
                await self.redis.ping()
                result["redis"] = "ok"
            except Exception as exc:
                result["redis"] = type(exc).__name__
        return result

    async def close(self) -> None:
        from bot.paging import flush_after_commit

        # Post-commit enqueues still in flight would reopen a Redis connection after the pool is closed.
        await flush_after_commit()
        await self.queue.close()
        await self.sender.close()
        await self.caller.close()
        if self.redis is not None:
            await self.redis.aclose(close_connection_pool=True)
        await self.engine.dispose()


QUEUE_NAME = "careline:queue"


def make_arq_redis(url: str) -> Any:
    from arq.connections import ArqRedis
    from redis.asyncio import ConnectionPool

    pool = ConnectionPool.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    return ArqRedis(connection_pool=pool, default_queue_name=QUEUE_NAME)


def make_sender(settings: Settings) -> MessageSender:
    if not settings.twilio_enabled:
        return ConsoleSender()
    from channels.twilio.sender import TwilioSender

    return TwilioSender(
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        api_url=settings.twilio_api_url,
        timeout_s=settings.twilio_timeout_s,
        default_from=settings.sms_from,
        messaging_service_sid=settings.messaging_service_sid,
    )


def make_caller(settings: Settings) -> CallPlacer:
    if not settings.twilio_enabled:
        return ConsoleCallPlacer()
    from channels.twilio.voice import TwilioCallPlacer

    return TwilioCallPlacer(
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        api_url=settings.twilio_api_url,
        timeout_s=settings.twilio_timeout_s,
        from_=settings.voice_from or settings.paging_from or settings.sms_from,
    )


async def open_services(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utc_now,
    in_process_jobs: bool | None = None,
) -> Services:
    """Open the database, the job queue (arq if CARELINE_REDIS_URL is set) and the sender, inside the loop."""
    from bot.tasks import REGISTRY

    engine = create_engine(
        settings.database_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow
    )
    redis: Any | None = None
    queue: JobQueue
    limiter: RateLimiter
    use_arq = bool(settings.redis_url) if in_process_jobs is None else not in_process_jobs
    if settings.redis_url:
        # Built without a ping: if Redis is down, the web process still starts, accepts and stores texts,
        # and the sweeper queues their processing once Redis is back.
        redis = make_arq_redis(settings.redis_url)
        limiter = RedisRateLimiter(redis)
    else:
        limiter = LocalRateLimiter()
    queue = ArqQueue(redis, QUEUE_NAME) if use_arq and redis is not None else InProcessQueue(REGISTRY)
    services = Services(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        queue=queue,
        sender=make_sender(settings),
        limiter=limiter,
        redis=redis,
        clock=clock,
        caller=make_caller(settings),
    )
    if isinstance(queue, InProcessQueue):
        queue.bind(services)
    return services

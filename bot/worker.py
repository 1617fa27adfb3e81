"""The arq worker: `careline worker`. The same job functions as the in-process queue, the sweeper cron and, on
PostgreSQL, the inbound dispatcher (bot/dispatch.py)."""

from __future__ import annotations

from typing import Any

from arq import cron
from arq.connections import RedisSettings
from arq.worker import Function, func

from bot.dispatch import InboundDispatcher, dispatch_by_notify
from bot.jobs import JobFunc
from bot.services import QUEUE_NAME, Services, open_services
from bot.settings import Settings


def services_from(ctx: dict[str, Any]) -> Services:
    """The one typed accessor for arq's untyped ctx."""
    services = ctx["services"]
    if not isinstance(services, Services):
        raise TypeError("worker ctx has no Services")
    return services


def _wrap(name: str, fn: JobFunc) -> Function:
    async def job(ctx: dict[str, Any], *args: int | str) -> None:
        await fn(services_from(ctx), *args)

    job.__qualname__ = job.__name__ = name
    return func(job, name=name)


def worker_kwargs(settings: Settings, services: Services | None = None) -> dict[str, Any]:
    """Keyword arguments for arq's Worker (`careline worker` and the tests use the same)."""
    from bot.tasks import REGISTRY, sweep

    async def startup(ctx: dict[str, Any]) -> None:
        opened = ctx["services"] = services or await open_services(settings, in_process_jobs=False)
        if dispatch_by_notify(opened):
            dispatcher = ctx["dispatcher"] = InboundDispatcher(opened)
            await dispatcher.start()

    async def shutdown(ctx: dict[str, Any]) -> None:
        dispatcher = ctx.pop("dispatcher", None)
        if isinstance(dispatcher, InboundDispatcher):
            await dispatcher.close()
        if services is None and "services" in ctx:
            await services_from(ctx).close()

    async def sweeper(ctx: dict[str, Any]) -> None:
        await sweep(services_from(ctx))

    every = max(1, int(settings.sweep_interval_s))
    return {
        "functions": [_wrap(name, fn) for name, fn in REGISTRY.items()],
        "cron_jobs": [cron(sweeper, name="sweeper", second=set(range(0, 60, min(every, 60))), run_at_startup=True)],
        "queue_name": QUEUE_NAME,
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "on_startup": startup,
        "on_shutdown": shutdown,
        "max_jobs": settings.worker_max_jobs,
        "poll_delay": settings.worker_poll_delay_s,  # arq's 0.5 s default adds up to 0.5 s to every hop
        # Read few jobs ahead: a batch already read waits for free slots, and a page queued meanwhile behind it.
        "queue_read_limit": settings.worker_queue_read_limit,
        "keep_result": 0,
        "handle_signals": True,
    }

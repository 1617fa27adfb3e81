"""create_app(settings): the aiohttp application factory (no module-level config, no argv)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from aiohttp import web

from bot import web as views
from bot.api import setup_api
from bot.jobs import InProcessQueue
from bot.keys import SERVICES, SETTINGS
from bot.logging import get_logger
from bot.services import Services, open_services, utc_now
from bot.settings import Settings
from bot.voice import setup_voice

log = get_logger(__name__)


def create_app(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utc_now,
    services: Services | None = None,
) -> web.Application:
    app = web.Application(middlewares=[views.twilio_guard], client_max_size=1024 * 1024)
    app[SETTINGS] = settings
    app.cleanup_ctx.append(_services_ctx(settings, clock, services))
    app.router.add_post("/twilio/sms", views.inbound_sms)
    app.router.add_post("/twilio/sms/status", views.sms_status)
    app.router.add_get("/healthz", views.healthz)
    app.router.add_get("/readyz", views.readyz)
    app.router.add_get("/metrics", views.metrics_view)
    setup_voice(app)  # /twilio/voice/* (bot/voice.py)
    setup_api(app)  # /api/v1 (bot/api)
    return app


def _services_ctx(
    settings: Settings, clock: Callable[[], datetime], given: Services | None
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        services = given or await open_services(settings, clock=clock)
        app[SERVICES] = services
        sweeper = None
        if isinstance(services.queue, InProcessQueue):
            # Embedded mode: no arq worker, so this process runs the sweeper itself.
            sweeper = asyncio.create_task(_sweep_forever(services), name="sweeper")
        yield
        if sweeper is not None:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
        if given is None:
            await services.close()

    return ctx


async def _sweep_forever(services: Services) -> None:
    from bot.tasks import sweep

    while True:
        await asyncio.sleep(services.settings.sweep_interval_s)
        try:
            await sweep(services)
        except Exception:
            log.exception("sweep_failed")

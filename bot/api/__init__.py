"""The REST API under /api/v1 (JSON, bearer tokens), described by /api/v1/openapi.json."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from bot.api import handlers as h
from bot.api.openapi import openapi_document
from bot.keys import SERVICES
from bot.logging import get_logger
from bot.paging import refresh_open_gauge

log = get_logger(__name__)

GAUGE_REFRESH_S = 15.0


def setup_api(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/v1/openapi.json", openapi_view)
    r.add_get("/api/v1/staff", h.list_staff)
    r.add_post("/api/v1/staff", h.create_staff)
    r.add_get("/api/v1/staff/{id}", h.get_staff)
    r.add_patch("/api/v1/staff/{id}", h.update_staff)
    r.add_get("/api/v1/oncall/rotations", h.list_rotations)
    r.add_post("/api/v1/oncall/rotations", h.create_rotation)
    r.add_get("/api/v1/oncall/rotations/{id}", h.get_rotation)
    r.add_put("/api/v1/oncall/rotations/{id}", h.replace_rotation)
    r.add_delete("/api/v1/oncall/rotations/{id}", h.delete_rotation)
    r.add_get("/api/v1/oncall/overrides", h.list_overrides)
    r.add_post("/api/v1/oncall/overrides", h.create_override)
    r.add_delete("/api/v1/oncall/overrides/{id}", h.delete_override)
    r.add_get("/api/v1/oncall/now", h.oncall_now)
    r.add_get("/api/v1/policies", h.list_policies)
    r.add_post("/api/v1/policies", h.create_policy)
    r.add_get("/api/v1/policies/{key}", h.get_policy)
    r.add_put("/api/v1/policies/{key}", h.put_policy)
    r.add_get("/api/v1/escalations", h.list_escalations)
    r.add_get("/api/v1/escalations/{id}", h.get_escalation)
    r.add_post("/api/v1/escalations/{id}/ack", h.ack_escalation)
    r.add_post("/api/v1/escalations/{id}/resolve", h.resolve_escalation)
    r.add_post("/api/v1/escalations/{id}/escalate", h.escalate_escalation)
    app.cleanup_ctx.append(_gauge_refresher)


async def openapi_view(_request: web.Request) -> web.Response:
    return web.json_response(openapi_document())


async def _gauge_refresher(app: web.Application) -> AsyncIterator[None]:
    """Keep the open-escalations gauge of this process current for /metrics."""

    async def loop() -> None:
        while True:
            try:
                await refresh_open_gauge(app[SERVICES])
            except Exception as exc:
                log.warning("gauge_refresh_failed", error=type(exc).__name__)
            await asyncio.sleep(GAUGE_REFRESH_S)

    task = asyncio.create_task(loop(), name="escalation-gauge")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task

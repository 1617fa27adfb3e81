"""HTTP handlers: Twilio webhooks and health. A webhook verifies, parses, dedupes, stores, enqueues and
answers at once; all the work happens in jobs."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from multidict import MultiDict
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot import metrics
from bot.inbound import store_inbound
from bot.keys import SERVICES, SETTINGS
from bot.logging import get_logger
from channels.twilio.webhook import (
    EMPTY_TWIML,
    MAX_BODY_BYTES,
    WebhookError,
    parse_form,
    parse_inbound_sms,
    parse_status_callback,
    signature_valid,
)
from storage import repo

log = get_logger(__name__)

FORM = web.RequestKey("twilio_form", MultiDict[str])
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def twiml(body: str = EMPTY_TWIML) -> web.Response:
    return web.Response(text=body, content_type="text/xml")


async def read_limited(request: web.Request, limit: int = MAX_BODY_BYTES) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=request.content_length)
    body = await request.content.read(limit + 1)
    if len(body) > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=len(body))
    return body


def _is_loopback(remote: str | None) -> bool:
    try:
        return remote is not None and ipaddress.ip_address(remote).is_loopback
    except ValueError:
        return False


@web.middleware
async def twilio_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """For /twilio/*: size limit, form parsing, and X-Twilio-Signature over every field received.

    Validated against CARELINE_PUBLIC_URL + the raw path and query, as Twilio signed it (yap #1629).
    With no Twilio credentials (console transport) only loopback callers are accepted.
    """
    if not request.path.startswith("/twilio/"):
        return await handler(request)
    settings = request.app[SETTINGS]
    route = request.path
    if request.method != "POST":
        return await handler(request)
    try:
        body = await read_limited(request)
    except web.HTTPRequestEntityTooLarge:
        log.warning("webhook_rejected", route=route, reason="too_large")
        raise
    try:
        form = parse_form(body)
    except WebhookError as exc:
        log.warning("webhook_rejected", route=route, reason=str(exc))
        raise web.HTTPBadRequest(text=str(exc)) from exc
    if settings.twilio_enabled:
        url = settings.public_url + request.raw_path
        if not signature_valid(settings.twilio_auth_token, url, form, request.headers.get("X-Twilio-Signature")):
            log.warning("webhook_rejected", route=route, reason="bad_signature")
            raise web.HTTPForbidden(text="invalid X-Twilio-Signature")
    elif not _is_loopback(request.remote):
        log.warning("webhook_rejected", route=route, reason="not_loopback_in_console_mode")
        raise web.HTTPForbidden(text="webhooks are accepted only from loopback without Twilio credentials")
    request[FORM] = form
    return await handler(request)


async def inbound_sms(request: web.Request) -> web.Response:
    started = time.perf_counter()
    services = request.app[SERVICES]
    now = services.now()
    try:
        inbound = parse_inbound_sms(request[FORM], now)
    except WebhookError as exc:
        log.warning("webhook_rejected", route="sms", reason=str(exc))
        raise web.HTTPBadRequest(text=str(exc)) from exc
    await store_inbound(services, inbound)
    metrics.WEBHOOK_SECONDS.labels(route="sms").observe(time.perf_counter() - started)
    return twiml()


async def sms_status(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    now = services.now()
    try:
        status = parse_status_callback(request[FORM], now)
    except WebhookError as exc:
        log.warning("webhook_rejected", route="sms_status", reason=str(exc))
        raise web.HTTPBadRequest(text=str(exc)) from exc
    async with services.sessions() as session, session.begin():
        fresh = await repo.record_status_event(session, status.sid, status.status, status.error_code, now)
        moved = fresh and await repo.advance_status(session, status.sid, status.status, status.error_code, now)
    outcome = "duplicate" if not fresh else ("applied" if moved else "ignored")
    metrics.STATUS_CALLBACKS.labels(outcome=outcome).inc()
    log.info("status_callback", sid=status.sid, status=status.status, outcome=outcome, code=status.error_code)
    return web.Response(status=204)


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    checks = await request.app[SERVICES].check_ready()
    ok = all(value == "ok" for value in checks.values())
    return web.json_response({"status": "ok" if ok else "unavailable", "checks": checks}, status=200 if ok else 503)


async def metrics_view(_request: web.Request) -> web.Response:
    response = web.Response(body=generate_latest())
    response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    response.charset = "utf-8"
    return response

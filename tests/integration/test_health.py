"""Health, readiness, metrics, and the console transport used when no Twilio credentials are set."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from bot.app import create_app
from bot.keys import SERVICES
from bot.services import Services
from bot.settings import Settings
from channels.console import ConsoleSender
from tests.conftest import post_signed, sms_params
from tests.integration.helpers import count_messages, outbound, settle


async def test_healthz_readyz_and_metrics(client: TestClient[Any, Any], settings: Settings) -> None:
    assert (await client.get("/healthz")).status == 200
    ready = await client.get("/readyz")
    assert ready.status == 200
    assert (await ready.json())["checks"] == {"database": "ok"}
    await post_signed(client, settings, "/twilio/sms", sms_params("hi"))
    metrics = await client.get("/metrics")
    assert metrics.status == 200
    text = await metrics.text()
    assert 'careline_inbound_messages_total{outcome="stored"}' in text
    assert "careline_webhook_seconds_bucket" in text


async def test_console_transport_stores_replies_and_accepts_only_loopback_webhooks(
    aiohttp_client: Any, settings: Settings, fake_twilio: Any
) -> None:
    console = settings.model_copy(update={"twilio_account_sid": "", "twilio_auth_token": ""})
    client: TestClient[Any, Any] = await aiohttp_client(create_app(console))
    services: Services = client.app[SERVICES]
    assert isinstance(services.sender, ConsoleSender)
    # The test client connects over loopback: accepted without a signature.
    resp = await client.post("/twilio/sms", data=sms_params("hello"))
    assert resp.status == 200
    await settle(services)
    (reply,) = await outbound(services)
    assert reply.status == "delivered"
    assert reply.external_sid is not None
    assert reply.external_sid.startswith("CO")
    assert fake_twilio.requests == []  # nothing left the machine
    # From anywhere else: refused, nothing stored.
    before = await count_messages(services)
    resp = await client.post("/twilio/sms", data=sms_params("from afar"), headers={"X-Forwarded-For": "203.0.113.9"})
    assert resp.status == 200  # X-Forwarded-For is not trusted: the peer is still loopback
    assert await count_messages(services) == before + 1

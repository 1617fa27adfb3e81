"""Jobs: one contact's texts are processed in order and once, on the in-process queue and on arq + Redis;
if Redis is down, texts are still accepted and stored, and processed once it is back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient
from arq.worker import Worker

from bot.app import create_app
from bot.keys import SERVICES
from bot.services import Services, open_services
from bot.settings import Settings
from bot.tasks import sweep
from bot.worker import worker_kwargs
from tests.conftest import PATIENT, REDIS_URL, post_signed, sms_params
from tests.fakes.twilio_api import FakeTwilio
from tests.integration.helpers import count_messages, inbound, settle


@pytest.fixture
async def redis_settings(settings: Settings) -> AsyncIterator[Settings]:
    client = aioredis.from_url(REDIS_URL)
    await client.flushdb()
    yield settings.model_copy(update={"redis_url": REDIS_URL})
    await client.flushdb()
    await client.aclose()


async def run_worker(settings: Settings, **overrides: Any) -> None:
    kwargs = worker_kwargs(settings)
    kwargs.update(handle_signals=False, burst=True, poll_delay=0.05, cron_jobs=[], **overrides)
    worker = Worker(**kwargs)
    try:
        await worker.main()
    finally:
        await worker.close()


def assert_processed_in_order(messages: list[Any]) -> None:
    stamps = [m.processed_at for m in messages]
    assert all(s is not None for s in stamps)
    assert stamps == sorted(stamps)


async def test_concurrent_webhooks_for_one_number_are_processed_in_arrival_order_in_process(
    client: TestClient[Any, Any], settings: Settings, services: Services
) -> None:
    bodies = [f"message {i}" for i in range(10)]
    responses = await asyncio.gather(
        *(post_signed(client, settings, "/twilio/sms", sms_params(body)) for body in bodies)
    )
    assert [r.status for r in responses] == [200] * 10
    await settle(services)
    stored = await inbound(services)
    assert len(stored) == 10
    assert_processed_in_order(stored)


async def test_arq_worker_processes_one_contact_in_order_and_each_text_once(
    aiohttp_client: Any, redis_settings: Settings, fake_twilio: FakeTwilio
) -> None:
    client = await aiohttp_client(create_app(redis_settings))
    services: Services = client.app[SERVICES]
    params = [sms_params(f"question {i}") for i in range(8)]
    await asyncio.gather(*(post_signed(client, redis_settings, "/twilio/sms", p) for p in params))
    await asyncio.gather(*(post_signed(client, redis_settings, "/twilio/sms", p) for p in params[:3]))  # retries
    # Two workers side by side, each running many jobs at once.
    await asyncio.gather(run_worker(redis_settings, max_jobs=10), run_worker(redis_settings, max_jobs=10))
    stored = await inbound(services)
    assert len(stored) == 8
    assert_processed_in_order(stored)
    # One acknowledgement for the burst (at most one per half hour), sent once.
    await fake_twilio.wait_for_messages(1)
    assert [m.to for m in fake_twilio.messages_sent] == [PATIENT]


async def test_when_redis_is_down_texts_are_stored_and_processed_once_it_is_back(
    aiohttp_client: Any, redis_settings: Settings, fake_twilio: FakeTwilio
) -> None:
    down = redis_settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    client = await aiohttp_client(create_app(down))
    services: Services = client.app[SERVICES]
    resp = await post_signed(client, down, "/twilio/sms", sms_params("are you there?"))
    assert resp.status == 200
    assert "<Response" in await resp.text()
    (stored,) = await inbound(services)
    assert stored.processed_at is None
    ready = await client.get("/readyz")
    assert ready.status == 503
    # Redis is back: the worker's sweeper finds the stored text and processes it.
    back = await open_services(redis_settings)
    try:
        counts = await sweep(back)
        assert counts["inbound"] == 1
    finally:
        await back.close()
    await run_worker(redis_settings)
    (processed,) = await inbound(services)
    assert processed.processed_at is not None
    await fake_twilio.wait_for_messages(1)


async def test_in_process_sweeper_processes_what_a_lost_job_left(
    client: TestClient[Any, Any], settings: Settings, services: Services
) -> None:
    from channels.types import Channel, InboundMessage
    from storage import repo

    now = services.now()
    async with services.sessions() as session, session.begin():
        conversation_id = await repo.conversation_for(session, PATIENT, now)
        await repo.claim_inbound(
            session,
            {
                "conversation_id": conversation_id,
                "direction": "inbound",
                "channel": Channel.SMS.value,
                "external_sid": "SMlost",
                "from_number": PATIENT,
                "to_number": "+15550001000",
                "body": "stored, but its job was lost",
                "status": "received",
                "created_at": now,
                "meta": {},
            },
        )
    del InboundMessage
    assert await count_messages(services, "inbound") == 1
    counts = await sweep(services)
    assert counts["inbound"] == 1
    await settle(services)
    (msg,) = await inbound(services)
    assert msg.processed_at is not None

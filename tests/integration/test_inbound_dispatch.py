"""On PostgreSQL with arq, the webhook's one statement stores the text and NOTIFYs; the workers' dispatcher
queues its processing (bot/dispatch.py). PostgreSQL only: NOTIFY is PostgreSQL's (SQLite keeps the webhook's
own enqueue, tested everywhere else)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient
from arq.worker import Worker
from sqlalchemy import exc

from bot.app import create_app
from bot.dispatch import InboundDispatcher, asyncpg_dsn, dispatch_by_notify
from bot.keys import SERVICES
from bot.services import QUEUE_NAME, Services, open_services
from bot.settings import Settings
from bot.worker import worker_kwargs
from storage.db import retry_on_disconnect
from tests.conftest import REDIS_URL, emptied_pg_url, post_signed, sms_params
from tests.integration.helpers import eventually, inbound


@pytest.fixture
async def database_url(pg_dsn: str) -> str:
    """PostgreSQL only (this module overrides the sqlite/postgresql parametrised fixture)."""
    return await emptied_pg_url(pg_dsn)


@pytest.fixture
async def redis() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(REDIS_URL)
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()


@pytest.fixture
def arq_settings(settings: Settings, redis: aioredis.Redis) -> Settings:
    return settings.model_copy(update={"redis_url": REDIS_URL})


@pytest.fixture
async def web(aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]], arq_settings: Settings) -> Any:
    return await aiohttp_client(create_app(arq_settings))


@pytest.fixture
async def opened(arq_settings: Settings) -> AsyncIterator[Callable[[], Awaitable[Services]]]:
    """Open Services as a worker does (arq queue); all closed at the end of the test."""
    made: list[Services] = []

    async def open_one() -> Services:
        services = await open_services(arq_settings, in_process_jobs=False)
        made.append(services)
        return services

    yield open_one
    for services in made:
        await services.close()


async def queued(redis: aioredis.Redis) -> list[str]:
    return [job.decode() for job in await redis.zrange(QUEUE_NAME, 0, -1)]


async def test_the_webhook_leaves_queueing_to_the_dispatcher(web: TestClient[Any, Any], redis: aioredis.Redis) -> None:
    services: Services = web.app[SERVICES]
    assert dispatch_by_notify(services)
    resp = await post_signed(web, services.settings, "/twilio/sms", sms_params("is my appointment on friday?"))
    assert resp.status == 200
    assert len(await inbound(services)) == 1
    assert await queued(redis) == []  # one database round trip, no Redis call: a worker queues it


async def test_a_running_worker_processes_a_text_it_heard_about(
    web: TestClient[Any, Any], arq_settings: Settings
) -> None:
    services: Services = web.app[SERVICES]
    kwargs = worker_kwargs(arq_settings)
    kwargs.update(handle_signals=False, cron_jobs=[], poll_delay=0.02)  # no sweeper: only the NOTIFY can do it
    worker = Worker(**kwargs)
    running = asyncio.create_task(worker.main())
    try:
        await eventually(lambda: _listening(worker))
        resp = await post_signed(web, arq_settings, "/twilio/sms", sms_params("can i move my infusion?"))
        assert resp.status == 200

        async def processed() -> bool:
            return all(m.processed_at is not None for m in await inbound(services))

        await eventually(processed)

        async def idle() -> bool:  # the job has finished with Redis too: stopping now cuts nothing short
            return all(task.done() for task in worker.tasks.values())

        await eventually(idle)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await worker.close()


async def _listening(worker: Worker) -> bool:
    dispatcher = worker.ctx.get("dispatcher")
    return isinstance(dispatcher, InboundDispatcher) and dispatcher.connected.is_set()


async def test_two_dispatchers_hearing_one_notify_queue_one_job(
    web: TestClient[Any, Any], redis: aioredis.Redis, opened: Callable[[], Awaitable[Services]]
) -> None:
    dispatchers = [InboundDispatcher(await opened()), InboundDispatcher(await opened())]
    for dispatcher in dispatchers:
        await dispatcher.start()
    try:
        services: Services = web.app[SERVICES]
        await post_signed(web, services.settings, "/twilio/sms", sms_params("refill ready?"))
        (message,) = await inbound(services)

        async def one_job() -> bool:
            return await queued(redis) == [f"inbound:{message.id}"]

        await eventually(one_job)
        await asyncio.sleep(0.2)  # the slower dispatcher has had its turn too
        assert await queued(redis) == [f"inbound:{message.id}"]
    finally:
        for dispatcher in dispatchers:
            await dispatcher.close()


async def test_an_urgent_text_jumps_the_queue(
    web: TestClient[Any, Any], redis: aioredis.Redis, opened: Callable[[], Awaitable[Services]]
) -> None:
    dispatcher = InboundDispatcher(await opened())
    await dispatcher.start()
    try:
        services: Services = web.app[SERVICES]
        routine_text = sms_params("what time is my appt", sender="+15555550131")
        await post_signed(web, services.settings, "/twilio/sms", routine_text)
        await post_signed(web, services.settings, "/twilio/sms", sms_params("101.8 and shaking", sender="+15555550132"))
        routine, urgent = await inbound(services)

        async def both() -> bool:
            return len(await queued(redis)) == 2

        await eventually(both)
        assert await queued(redis) == [f"inbound:{urgent.id}", f"inbound:{routine.id}"]
    finally:
        await dispatcher.close()


async def test_texts_stored_while_no_worker_listened_are_queued_when_one_starts(
    web: TestClient[Any, Any], redis: aioredis.Redis, opened: Callable[[], Awaitable[Services]]
) -> None:
    services: Services = web.app[SERVICES]
    for i in range(3):
        await post_signed(web, services.settings, "/twilio/sms", sms_params(f"question {i}"))
    stored = await inbound(services)
    assert await queued(redis) == []  # nobody heard the NOTIFYs
    dispatcher = InboundDispatcher(await opened())
    await dispatcher.start()  # returns once the backlog is queued
    try:
        assert sorted(await queued(redis)) == sorted(f"inbound:{m.id}" for m in stored)
    finally:
        await dispatcher.close()


async def test_the_dispatcher_reconnects_when_its_connection_is_dropped(
    web: TestClient[Any, Any], redis: aioredis.Redis, opened: Callable[[], Awaitable[Services]], pg_dsn: str
) -> None:
    dispatcher = InboundDispatcher(await opened())
    await dispatcher.start()
    try:
        assert dispatcher._conn is not None
        old_pid = dispatcher._conn.get_server_pid()
        admin = await asyncpg.connect(pg_dsn)
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", old_pid)
        finally:
            await admin.close()

        async def reconnected() -> bool:
            conn = dispatcher._conn
            return conn is not None and not conn.is_closed() and conn.get_server_pid() != old_pid

        await eventually(reconnected)
        services: Services = web.app[SERVICES]
        await post_signed(web, services.settings, "/twilio/sms", sms_params("still there?"))
        (message,) = await inbound(services)

        async def queued_once() -> bool:
            return await queued(redis) == [f"inbound:{message.id}"]

        await eventually(queued_once)
    finally:
        await dispatcher.close()


async def test_the_webhook_survives_the_database_dropping_its_pooled_connections(
    web: TestClient[Any, Any], pg_dsn: str
) -> None:
    services: Services = web.app[SERVICES]
    assert (await post_signed(web, services.settings, "/twilio/sms", sms_params("first"))).status == 200
    admin = await asyncpg.connect(pg_dsn)
    try:
        # A restart or failover, as the pool sees it: every other connection to the database is gone.
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await admin.close()
    assert (await post_signed(web, services.settings, "/twilio/sms", sms_params("second"))).status == 200
    assert [m.body for m in await inbound(services)] == ["first", "second"]


async def test_retry_on_disconnect_retries_once_and_only_for_a_dropped_connection() -> None:
    calls = 0

    async def dropped_once() -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise exc.DBAPIError("SELECT 1", None, ConnectionError("gone"), connection_invalidated=True)
        return "ok"

    assert await retry_on_disconnect(dropped_once) == "ok"
    assert calls == 2

    async def bad_sql() -> str:
        raise exc.DBAPIError("SELEC 1", None, ValueError("syntax"), connection_invalidated=False)

    with pytest.raises(exc.DBAPIError):
        await retry_on_disconnect(bad_sql)


def test_asyncpg_dsn_drops_the_sqlalchemy_driver_name() -> None:
    assert asyncpg_dsn("postgresql+asyncpg://user:pw@db:5432/careline") == "postgresql://user:pw@db:5432/careline"

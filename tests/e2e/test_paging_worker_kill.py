"""A paging step still fires after the worker is killed with SIGKILL between steps and started again.

A real `careline worker` subprocess against real Redis and PostgreSQL; the web app runs in the test process
and the pages arrive at the fake Twilio API.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from bot.app import create_app
from bot.keys import SERVICES
from bot.services import Services
from bot.settings import Settings
from tests.conftest import PATIENT, PUBLIC_URL, REDIS_URL, SMS_FROM, emptied_pg_url, post_signed, sms_params
from tests.fakes.twilio_api import FakeTwilio
from tests.integration.paging.helpers import NURSE_1, NURSE_2, URGENT_TEXT, seed_oncall, steps

CARELINE = str(Path(sys.executable).with_name("careline"))
STEP_DELAY_S = 3


@pytest.fixture
async def pg_url(pg_dsn: str) -> AsyncIterator[str]:
    url = await emptied_pg_url(pg_dsn)
    client = aioredis.from_url(REDIS_URL)
    await client.flushdb()
    yield url
    await client.flushdb()
    await client.aclose()


def _env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CARELINE_", "TWILIO_"))}
    env.update(
        CARELINE_DATABASE_URL=settings.database_url,
        CARELINE_REDIS_URL=settings.redis_url,
        CARELINE_PUBLIC_URL=settings.public_url,
        TWILIO_ACCOUNT_SID=settings.twilio_account_sid,
        TWILIO_AUTH_TOKEN=settings.twilio_auth_token,
        CARELINE_TWILIO_API_URL=settings.twilio_api_url,
        CARELINE_SMS_FROM=settings.sms_from,
        CARELINE_SMS_SEGMENTS_PER_SECOND="1000",
        CARELINE_SWEEP_INTERVAL_S="3600",  # the deferred job in Redis must survive on its own
        CARELINE_LOG_LEVEL="WARNING",
    )
    return env


def _start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([CARELINE, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.slow
async def test_step_fires_after_the_worker_is_sigkilled_and_restarted(
    aiohttp_client: Any, pg_url: str, fake_twilio: FakeTwilio
) -> None:
    settings = Settings(
        database_url=pg_url,
        redis_url=REDIS_URL,
        public_url=PUBLIC_URL,
        twilio_account_sid=fake_twilio.account_sid,
        twilio_auth_token=fake_twilio.auth_token,
        twilio_api_url=fake_twilio.base_url,
        sms_from=SMS_FROM,
        sms_segments_per_second=1000.0,
        sweep_interval_s=3600,
    )
    client = await aiohttp_client(create_app(settings))
    services: Services = client.app[SERVICES]
    await seed_oncall(services, steps((STEP_DELAY_S, "1", "sms"), (60, "2", "sms")))
    env = _env(settings)
    worker = _start_worker(env)
    try:
        resp = await post_signed(client, settings, "/twilio/sms", sms_params(URGENT_TEXT))
        assert resp.status == 200
        await fake_twilio.wait_for_messages(2, timeout=20)  # the page and the patient's reply
        assert sorted(m.to for m in fake_twilio.messages_sent) == sorted([NURSE_1, PATIENT])
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        await asyncio.sleep(STEP_DELAY_S + 1)  # step 2 falls due while no worker runs
        assert [m.to for m in fake_twilio.messages_sent].count(NURSE_2) == 0
        worker = _start_worker(env)
        await fake_twilio.wait_for_messages(3, timeout=20)
        await asyncio.sleep(0.5)
        assert [m.to for m in fake_twilio.messages_sent].count(NURSE_2) == 1
        assert [m.to for m in fake_twilio.messages_sent].count(NURSE_1) == 1
    finally:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(timeout=5)

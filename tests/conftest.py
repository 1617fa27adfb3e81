"""Shared fixtures. The only fake is Twilio's HTTP API; SQLite, PostgreSQL and Redis are real.

Every database test runs twice, on SQLite (a fresh file per test, copied from a migrated template) and on
PostgreSQL (one migrated database per test session, truncated before each test).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from twilio.request_validator import RequestValidator

from bot.app import create_app
from bot.keys import SERVICES
from bot.services import Services
from bot.settings import Settings
from storage.migrate import upgrade
from tests.fakes.twilio_api import FakeTwilio

PG_ADMIN_DSN = os.environ.get("CARELINE_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("CARELINE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PUBLIC_URL = "https://careline.example.org"
SMS_FROM = "+15550001000"
PATIENT = "+15555550123"

TABLES = (
    "audit_log",
    "consent_events",
    "opt_outs",
    "message_status_events",
    "messages",
    "conversations",
    "patients",
    "staff",
    # paging (storage/paging.py)
    "api_tokens",
    "oncall_rotations",
    "oncall_overrides",
    "escalation_policies",
    "escalation_events",
    "pages",
    "escalation_steps",
    "escalations",
)


def _pg_url(dsn: str) -> str:
    return dsn.replace("postgresql://", "postgresql+asyncpg://", 1)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_dsn() -> Iterator[str]:
    name = f"careline_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    def create() -> None:
        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
        upgrade(_pg_url(dsn))

    dsn = PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}"
    # Requested lazily from inside an async fixture: do the blocking work in a thread with its own loop.
    _in_thread(create)
    yield dsn
    _in_thread(lambda: asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')))


def _in_thread(fn: Callable[[], None]) -> None:
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(fn).result()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "careline.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    yield await emptied_pg_url(request.getfixturevalue("pg_dsn"))


async def emptied_pg_url(dsn: str) -> str:
    """The session's PostgreSQL database with every table emptied, as a SQLAlchemy URL."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()
    return _pg_url(dsn)


@pytest.fixture
async def fake_twilio() -> AsyncIterator[FakeTwilio]:
    fake = FakeTwilio()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override in a test module to change settings for its tests."""
    return {}


@pytest.fixture
def settings(database_url: str, fake_twilio: FakeTwilio, settings_overrides: dict[str, Any]) -> Settings:
    assert fake_twilio.base_url
    values: dict[str, Any] = {
        "database_url": database_url,
        "redis_url": "",
        "public_url": PUBLIC_URL,
        "twilio_account_sid": fake_twilio.account_sid,
        "twilio_auth_token": fake_twilio.auth_token,
        "twilio_api_url": fake_twilio.base_url,
        "sms_from": SMS_FROM,
        "practice_name": "Riverside Oncology",
        "practice_phone": "+15555550100",
        "practice_timezone": "America/New_York",
        "sms_segments_per_second": 1000.0,
        "sms_burst_s": 5.0,
        "send_backoff_base_s": 0.01,
        "reconcile_delay_s": 0.1,
        "twilio_timeout_s": 0.5,
        "sweep_interval_s": 3600,
        "inbound_stale_s": 0.0,
    }
    values.update(settings_overrides)
    return Settings(**values)


@pytest.fixture
async def client(
    aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]], settings: Settings
) -> TestClient[Any, Any]:
    return await aiohttp_client(create_app(settings))


@pytest.fixture
def services(client: TestClient[Any, Any]) -> Services:
    return client.app[SERVICES]


def sign(settings: Settings, path: str, params: Mapping[str, str]) -> str:
    """X-Twilio-Signature exactly as Twilio computes it (twilio's own RequestValidator)."""
    validator = RequestValidator(settings.twilio_auth_token)
    return str(validator.compute_signature(settings.public_url + path, dict(params)))


async def post_signed(
    client: TestClient[Any, Any], settings: Settings, path: str, params: Mapping[str, str]
) -> ClientResponse:
    return await client.post(path, data=dict(params), headers={"X-Twilio-Signature": sign(settings, path, params)})


def sms_params(body: str, sender: str = PATIENT, sid: str | None = None, **extra: str) -> dict[str, str]:
    params = {
        "MessageSid": sid or "SM" + uuid.uuid4().hex,
        "AccountSid": "AC" + "0" * 31 + "1",
        "From": sender,
        "To": SMS_FROM,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }
    params.update(extra)
    return params

"""Benchmark: from an urgent inbound SMS to the page request at (a fake of) Twilio's API, p50 and p99.

Careline runs as it does in production: `careline serve` and `careline worker` (arq on Redis), PostgreSQL, the
fake Twilio API of tests/fakes/twilio_api.py served by this process. While 100 routine inbound texts per second
arrive as background load (signed webhooks from 500 numbers, each answered and queued for triage), urgent
texts are sent one at a time from new numbers; for each, the time from the start of the webhook request to
the arrival of the page's `Messages.create` at the fake API is recorded (one clock: this process's).

Baseline, same run, same load: the same webhook with paging disabled (CARELINE_PAGING_ENABLED=false), timed
to the stored inbound row (the webhook answers only once the row is committed). Goal: page p99 <= 1 s.

Run: `make bench` or `python bench/page_latency.py [--samples N] [--rate 100]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.twilio_api import FakeTwilio

CARELINE = str(Path(sys.executable).with_name("careline"))
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/13"
PUBLIC_URL = "https://careline.example.org"
SMS_FROM = "+15550001000"
NURSE = "+15555550150"
URGENT = "my temp is 101.5 and I have chills"
WORKERS = int(os.environ.get("BENCH_WORKERS", "1"))  # `careline worker` processes
ROUTINE = ("Hi, is my infusion still on Thursday at 10? Thanks", "mild rash on my arm, otherwise fine")


async def _pg_database(name: str) -> str:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{name}"


async def _drop_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def _flush_redis() -> None:
    import redis.asyncio as aioredis

    client = aioredis.from_url(REDIS_URL)
    await client.flushdb()
    await client.aclose()


async def _seed(url: str) -> None:
    """One nurse on call around the clock; the default policy pages her by SMS at once."""
    from storage.db import create_engine, session_factory
    from storage.migrate import upgrade_async
    from storage.models import Staff
    from storage.paging import PolicyRow, RotationRow

    await upgrade_async(url)
    engine = create_engine(url)
    now = datetime.now(UTC)
    try:
        async with session_factory(engine)() as session, session.begin():
            nurse = Staff(name="Bench Nurse", role="nurse", phone=NURSE, created_at=now, updated_at=now)
            session.add(nurse)
            await session.flush()
            session.add(
                RotationRow(
                    name="nurses",
                    tier=1,
                    zone="America/New_York",
                    shift="daily",
                    handoff_time="08:00",
                    start_date=date(2026, 1, 1),
                    members=[str(nurse.id)],
                    created_at=now,
                    updated_at=now,
                )
            )
            steps = [{"delay_seconds": 300, "channels": "sms", "targets": [{"kind": "tier", "value": "1"}]}]
            session.add(PolicyRow(key="default", name="bench", repeat=0, steps=steps, created_at=now, updated_at=now))
    finally:
        await engine.dispose()


def _signed(body: str, sender: str) -> tuple[dict[str, str], str]:
    from twilio.request_validator import RequestValidator

    params = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": FakeTwilio().account_sid,
        "From": sender,
        "To": SMS_FROM,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }
    signature = RequestValidator(FakeTwilio().auth_token).compute_signature(PUBLIC_URL + "/twilio/sms", params)
    return params, str(signature)


def _pct(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] * 1000
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


async def _wait_up(port: int) -> None:
    import aiohttp

    deadline = time.monotonic() + 30
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("careline serve did not come up")
            await asyncio.sleep(0.2)


async def run_mode(paging: bool, samples: int, rate: float) -> tuple[list[float], list[float], int, int]:
    """(page or stored-row latencies, webhook latencies of the urgent texts, background texts sent, backlog)."""
    import aiohttp

    name = f"careline_bench_paging_{'on' if paging else 'off'}"
    url = await _pg_database(name)
    await _seed(url)
    await _flush_redis()
    fake = FakeTwilio()
    await fake.start()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CARELINE_", "TWILIO_"))}
    env.update(
        CARELINE_DATABASE_URL=url,
        CARELINE_REDIS_URL=REDIS_URL,
        CARELINE_PUBLIC_URL=PUBLIC_URL,
        TWILIO_ACCOUNT_SID=fake.account_sid,
        TWILIO_AUTH_TOKEN=fake.auth_token,
        CARELINE_TWILIO_API_URL=str(fake.base_url),
        CARELINE_SMS_FROM=SMS_FROM,
        # A short code's throughput: a long code (1 segment/s) could not answer 100 texts/s at all.
        CARELINE_SMS_SEGMENTS_PER_SECOND="1000",
        CARELINE_SWEEP_INTERVAL_S="3600",
        CARELINE_PAGING_ENABLED="true" if paging else "false",
        CARELINE_LOG_LEVEL=os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
    )
    procs = [
        subprocess.Popen([CARELINE, "serve", "--port", str(port)], env=env, stderr=subprocess.DEVNULL),  # noqa: ASYNC220
        *(
            subprocess.Popen([CARELINE, "worker"], env=env, stderr=_log(f"worker{i}"), stdout=subprocess.DEVNULL)  # noqa: ASYNC220
            for i in range(WORKERS)
        ),
    ]
    sent_background = 0
    backlog = 0
    latencies: list[float] = []
    webhook: list[float] = []
    try:
        await _wait_up(port)
        connector = aiohttp.TCPConnector(limit=64)
        async with aiohttp.ClientSession(connector=connector) as http:
            endpoint = f"http://127.0.0.1:{port}/twilio/sms"

            async def post(body: str, sender: str) -> float:
                params, signature = _signed(body, sender)
                started = time.monotonic()
                async with http.post(endpoint, data=params, headers={"X-Twilio-Signature": signature}) as resp:
                    await resp.read()
                    if resp.status != 200:
                        raise RuntimeError(f"webhook answered HTTP {resp.status}")
                return started

            stop = asyncio.Event()
            inflight: set[asyncio.Task[float]] = set()

            async def background() -> None:
                nonlocal sent_background
                interval = 1.0 / rate
                next_at = time.monotonic()
                i = 0
                while not stop.is_set():
                    sender = f"+1555{i % 500:07d}"
                    task = asyncio.create_task(post(ROUTINE[i % len(ROUTINE)], sender))
                    inflight.add(task)
                    task.add_done_callback(inflight.discard)
                    i += 1
                    sent_background += 1
                    next_at += interval
                    await asyncio.sleep(max(0.0, next_at - time.monotonic()))

            load = asyncio.create_task(background())
            await asyncio.sleep(3.0)  # warm up under load
            for n in range(samples):
                sender = f"+1666{n:07d}"  # a new patient each time: a new escalation, a new page
                pages_before = sum(1 for m in fake.messages_sent if m.to == NURSE)
                params, signature = _signed(URGENT, sender)
                started = time.monotonic()
                async with http.post(endpoint, data=params, headers={"X-Twilio-Signature": signature}) as resp:
                    await resp.read()
                answered = time.monotonic()
                webhook.append(answered - started)
                if paging:
                    deadline = started + 30
                    while sum(1 for m in fake.messages_sent if m.to == NURSE) <= pages_before:
                        if time.monotonic() > deadline:
                            raise TimeoutError("no page within 30 s")
                        await asyncio.sleep(0.002)
                    page = [m for m in fake.messages_sent if m.to == NURSE][pages_before]
                    latencies.append(page.request.received_monotonic - started)
                else:
                    latencies.append(answered - started)  # the 200 is sent after the row is committed
                await asyncio.sleep(0.25)
            stop.set()
            await load
            if inflight:
                await asyncio.gather(*inflight, return_exceptions=True)
            backlog = await _unprocessed(url)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        await fake.stop()
        await _flush_redis()
        await _drop_database(name)
    return latencies, webhook, sent_background, backlog


async def _unprocessed(url: str) -> int:
    """Inbound texts stored but not yet processed when the load stops (the routine backlog)."""
    from sqlalchemy import func, select

    from storage.db import create_engine, session_factory
    from storage.models import Message

    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            stmt = (
                select(func.count())
                .select_from(Message)
                .where(Message.direction == "inbound", Message.processed_at.is_(None))
            )
            return int((await session.execute(stmt)).scalar_one())
    finally:
        await engine.dispose()


def _log(name: str) -> int | object:
    """Where a server's log goes: $BENCH_LOG_DIR/<name>.log when set (debugging), else nowhere."""
    folder = os.environ.get("BENCH_LOG_DIR")
    if not folder:
        return subprocess.DEVNULL
    return open(Path(folder) / f"{name}.log", "ab")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def main_async(samples: int, rate: float) -> None:
    base, _base_hook, base_n, base_backlog = await run_mode(False, samples, rate)
    page, page_hook, page_n, page_backlog = await run_mode(True, samples, rate)
    print(f"\n== urgent SMS -> page at the Twilio API (PostgreSQL, arq on Redis, {rate:.0f} routine texts/s load)")
    print(
        f" baseline (paging off, webhook -> stored row): p50 {_pct(base, 50):7.1f} ms   p99 {_pct(base, 99):7.1f} ms"
        f"   ({samples} urgent texts, {base_n} background)"
    )
    print(
        f"   paging (webhook -> page request at Twilio): p50 {_pct(page, 50):7.1f} ms   p99 {_pct(page, 99):7.1f} ms"
        f"   ({samples} urgent texts, {page_n} background)"
    )
    print(
        f"     webhook answer with paging on:            p50 {_pct(page_hook, 50):7.1f} ms"
        f"   p99 {_pct(page_hook, 99):7.1f} ms"
    )
    print(
        f"  backlog: routine texts not yet processed when the load stopped: {base_backlog} (paging off), "
        f"{page_backlog} (paging on); urgent texts and pages jump the job queue"
    )
    print(f"    ratio: page p50 / baseline p50 = {_pct(page, 50) / _pct(base, 50):.1f}x")
    print(f"     goal: page p99 <= 1000 ms: {'met' if _pct(page, 99) <= 1000 else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=60, help="urgent texts per mode")
    parser.add_argument("--rate", type=float, default=100.0, help="background routine texts per second")
    args = parser.parse_args()
    asyncio.run(main_async(args.samples, args.rate))


if __name__ == "__main__":
    main()

"""Benchmark: inbound SMS webhook requests/s and p50/p99 latency at 32 concurrent connections.

Beside Careline's own webhook it measures, in the same run and against the same database, a baseline: a bare
aiohttp handler that validates the Twilio signature and inserts one row with the SQLAlchemy ORM. Each server
runs in its own process; the load comes from this process over loopback. Run: `make bench` (or
`python bench/webhook_sms.py [--requests N] [--backend postgresql|sqlite|both]`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.types import UTCDateTime

AUTH_TOKEN = "0123456789abcdef0123456789abcdef"
ACCOUNT_SID = "AC" + "0" * 31 + "1"
PUBLIC_URL = "https://careline.example.org"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/14"
CONCURRENCY = 32
EXTRA_ENV: dict[str, str] = {}


# ----------------------------------------------------------------------------------------- the baseline
class Base(DeclarativeBase):
    pass


class Row(Base):
    """The baseline's one row per inbound text."""

    __tablename__ = "bench_baseline_inbound"
    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(String(64), unique=True)
    sender: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


def serve_baseline(database_url: str, port: int) -> None:
    from aiohttp import web
    from twilio.request_validator import RequestValidator

    from storage.db import create_engine, session_factory

    validator = RequestValidator(AUTH_TOKEN)

    async def handler(request: web.Request) -> web.Response:
        form = await request.post()
        if not validator.validate(PUBLIC_URL + request.raw_path, form, request.headers.get("X-Twilio-Signature", "")):
            raise web.HTTPForbidden()
        async with sessions() as session, session.begin():
            session.add(
                Row(
                    sid=str(form["MessageSid"]),
                    sender=str(form["From"]),
                    body=str(form["Body"]),
                    created_at=datetime.now(UTC),
                )
            )
        return web.Response(text="<Response/>", content_type="text/xml")

    engine = create_engine(database_url)
    sessions = session_factory(engine)

    async def setup(_app: web.Application) -> None:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)

    app = web.Application()
    app.on_startup.append(setup)
    app.router.add_post("/twilio/sms", handler)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


# ----------------------------------------------------------------------------------------- Careline
def serve_careline(port: int) -> None:
    from aiohttp import web

    from bot.app import create_app
    from bot.logging import configure_logging
    from bot.settings import Settings

    settings = Settings()
    configure_logging(settings.log_level)
    web.run_app(create_app(settings), host="127.0.0.1", port=port, access_log=None, print=None)


# ----------------------------------------------------------------------------------------- load
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _wait_up(port: int) -> None:
    import aiohttp

    deadline = time.monotonic() + 30
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.post(f"http://127.0.0.1:{port}/twilio/sms", data={}) as resp:
                    if resp.status in (400, 403):
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("server did not come up")
            await asyncio.sleep(0.2)


async def _load(port: int, requests: int) -> tuple[float, list[float]]:
    import aiohttp
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(AUTH_TOKEN)
    bodies = []
    for i in range(requests):
        params = {
            "MessageSid": "SM" + uuid.uuid4().hex,
            "AccountSid": ACCOUNT_SID,
            "From": f"+1555{i % 500:07d}",
            "To": "+15550001000",
            "Body": "Hi, is my infusion still on Thursday at 10? Thanks",
            "NumMedia": "0",
            "NumSegments": "1",
            "SmsStatus": "received",
            "ApiVersion": "2010-04-01",
        }
        bodies.append((params, validator.compute_signature(PUBLIC_URL + "/twilio/sms", params)))
    latencies: list[float] = []
    queue: asyncio.Queue[tuple[dict[str, str], str]] = asyncio.Queue()
    for item in bodies:
        queue.put_nowait(item)
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            while not queue.empty():
                params, sig = queue.get_nowait()
                started = time.perf_counter()
                async with session.post(
                    f"http://127.0.0.1:{port}/twilio/sms", data=params, headers={"X-Twilio-Signature": sig}
                ) as resp:
                    await resp.read()
                    if resp.status != 200:
                        raise RuntimeError(f"HTTP {resp.status}")
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - started
    return requests / elapsed, latencies


WRK_SCRIPT = r"""
local requests = {}
local counter = 1
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  local n = 0
  for line in io.lines(args[1]) do
    if n % tonumber(args[2]) == id then
      local sig, body = line:match("^([^\t]+)\t(.*)$")
      table.insert(requests, wrk.format("POST", "/twilio/sms",
        {["Content-Type"] = "application/x-www-form-urlencoded", ["X-Twilio-Signature"] = sig}, body))
    end
    n = n + 1
  end
end
function request()
  local r = requests[counter]
  counter = counter + 1
  if counter > #requests then counter = 1 end
  return r
end
function done(summary, latency, requests)
  io.write(string.format("WRK %d %d %d %.3f %.3f %d\n", summary.requests, summary.duration,
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def _wrk_load(port: int, seconds: int, tmp: str) -> tuple[float, float, float]:
    """wrk (C, epoll) as the load: a Python load generator on the same 2 cores saturates before the servers.

    Every request is pre-signed with a unique MessageSid; returns (requests/s, p50 ms, p99 ms)."""
    from urllib.parse import urlencode

    from twilio.request_validator import RequestValidator

    validator = RequestValidator(AUTH_TOKEN)
    threads = 2
    lines = []
    for i in range(seconds * 2500):
        params = {
            "MessageSid": "SM" + uuid.uuid4().hex,
            "AccountSid": ACCOUNT_SID,
            "From": f"+1555{i % 500:07d}",
            "To": "+15550001000",
            "Body": "Hi, is my infusion still on Thursday at 10? Thanks",
            "NumMedia": "0",
            "NumSegments": "1",
            "SmsStatus": "received",
            "ApiVersion": "2010-04-01",
        }
        lines.append(validator.compute_signature(PUBLIC_URL + "/twilio/sms", params) + "\t" + urlencode(params))
    req_file = Path(tmp) / f"requests-{port}.txt"
    req_file.write_text("\n".join(lines) + "\n")
    script = Path(tmp) / "signed.lua"
    script.write_text(WRK_SCRIPT)
    out = subprocess.run(
        [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(CONCURRENCY),
            "-d",
            f"{seconds}s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
            "--",
            str(req_file),
            str(threads),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    )
    line = next(x for x in out.stdout.splitlines() if x.startswith("WRK "))
    count, duration_us, bad_status, p50, p99, socket_errors = line.split()[1:]
    if int(bad_status):
        raise RuntimeError(f"wrk saw {bad_status} non-2xx answers")
    if int(socket_errors):
        # wrk counts connections it cut itself when the duration ends; a few are expected, many are a failure.
        print(f"   (wrk: {socket_errors} socket errors over {count} requests)")
        if int(socket_errors) > int(count) // 100:
            raise RuntimeError("too many socket errors")
    return int(count) / (int(duration_us) / 1e6), float(p50), float(p99)


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 1 else values[0] * 1000


async def _pg_database(name: str) -> str:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{name}"


async def _flush_redis() -> None:
    import redis.asyncio as aioredis

    client = aioredis.from_url(REDIS_URL)
    await client.flushdb()
    await client.aclose()


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, __file__, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


async def run_backend(backend: str, requests: int, rounds: int, seconds: int) -> None:
    from storage.migrate import upgrade_async

    tmp = tempfile.mkdtemp(prefix="careline-bench-")
    if backend == "postgresql":
        ours_db = await _pg_database("careline_bench_ours")
        base_db = await _pg_database("careline_bench_baseline")
        redis_url = REDIS_URL
    else:
        ours_db = f"sqlite+aiosqlite:///{tmp}/ours.db"
        base_db = f"sqlite+aiosqlite:///{tmp}/baseline.db"
        # Jobs on Redis here too, so both servers do only the webhook's work (embedded in-process jobs would
        # also run the processing of every text inside the measured process).
        redis_url = REDIS_URL
    await upgrade_async(ours_db)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CARELINE_", "TWILIO_"))}
    ours_env = {
        **env,
        "CARELINE_DATABASE_URL": ours_db,
        "CARELINE_REDIS_URL": redis_url,
        "CARELINE_PUBLIC_URL": PUBLIC_URL,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "CARELINE_SMS_FROM": "+15550001000",
        "CARELINE_TWILIO_API_URL": "http://127.0.0.1:9",  # nothing is sent during the benchmark
        "CARELINE_SWEEP_INTERVAL_S": "3600",
        **EXTRA_ENV,
    }
    use_wrk = shutil.which("wrk") is not None
    results: dict[str, list[tuple[float, float, float]]] = {"baseline": [], "careline": []}
    for _ in range(rounds):
        for name in ("baseline", "careline"):
            await _flush_redis()
            port = _free_port()
            if name == "baseline":
                proc = _spawn(["--serve-baseline", base_db, str(port)], env)
            else:
                proc = _spawn(["--serve-careline", str(port)], ours_env)
            try:
                await _wait_up(port)
                await _load(port, 200)  # warm-up: connections, caches, prepared statements
                if use_wrk:
                    results[name].append(await asyncio.to_thread(_wrk_load, port, seconds, tmp))
                else:
                    rps, lat = await _load(port, requests)
                    results[name].append((rps, _pct(lat, 50), _pct(lat, 99)))
            finally:
                _stop(proc)
    await _flush_redis()
    load = f"wrk, {seconds} s" if use_wrk else f"python load generator, {requests} requests"
    print(f"\n== inbound SMS webhook on {backend} ({load} x {rounds} rounds, {CONCURRENCY} connections)")
    summary = {}
    for name, runs in results.items():
        best = sorted(runs)[len(runs) // 2]  # the median round by requests/s
        summary[name] = best
        print(f"{name:>9}: {best[0]:8.0f} req/s   p50 {best[1]:6.1f} ms   p99 {best[2]:6.1f} ms")
    ratio = summary["careline"][0] / summary["baseline"][0]
    print(f"    ratio: careline/baseline requests/s = {ratio:.2f}x; careline p99 = {summary['careline'][2]:.1f} ms")
    if backend == "postgresql":
        goal = ratio >= 1.0 and summary["careline"][2] <= 100
        print(f"     goal: >= 1.0x baseline and p99 <= 100 ms: {'met' if goal else 'NOT met'}")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve-baseline":
        serve_baseline(sys.argv[2], int(sys.argv[3]))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--serve-careline":
        serve_careline(int(sys.argv[2]))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10, help="duration of each wrk run")
    parser.add_argument("--backend", choices=["postgresql", "sqlite", "both"], default="both")
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for Careline's server (experiments)")
    args = parser.parse_args()
    EXTRA_ENV.update(item.split("=", 1) for item in args.env)
    backends = ["postgresql", "sqlite"] if args.backend == "both" else [args.backend]
    for backend in backends:
        asyncio.run(run_backend(backend, args.requests, args.rounds, args.seconds))


if __name__ == "__main__":
    main()

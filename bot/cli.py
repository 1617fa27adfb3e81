"""The `careline` command."""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from collections.abc import Sequence

from bot.settings import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="careline", description="Careline: SMS and voice for oncology practices")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the web app (Twilio webhooks, health, metrics)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)

    sub.add_parser("worker", help="run the arq worker (needs CARELINE_REDIS_URL)")

    db = sub.add_parser("db", help="database migrations")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="migrate the database to the latest schema (Alembic)")

    sub.add_parser("seed-demo", help="add a demo practice's patients and staff (idempotent)")

    chat = sub.add_parser("chat", help="a terminal phone: type as a patient, see Careline's replies")
    chat.add_argument("--from", dest="sender", required=True, help="the patient's number, e.g. +15555550123")

    sub.add_parser("triage", help="triage a text: careline triage 'text' | --jsonl IN [--out OUT]", add_help=False)

    token = sub.add_parser("token", help="API bearer tokens")
    token_sub = token.add_subparsers(dest="token_command", required=True)
    create = token_sub.add_parser("create", help="create a token and print it (only its hash is stored)")
    create.add_argument("--role", required=True, choices=("admin", "nurse", "viewer"))
    create.add_argument("--name", default="", help="a label, e.g. who or what uses it")
    create.add_argument("--staff-id", type=int, default=None, help="acts (acks, closes) as this staff member")

    imp = sub.add_parser("import", help="import staff or rotations from a CSV file (all rows or none)")
    imp.add_argument("kind", choices=("staff", "rotations"))
    imp.add_argument("file", help="CSV with a header row; see README 'Paging and escalation'")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] == "triage":
        from triage.cli import main as triage_main

        return triage_main(args_list[1:])
    args = _parser().parse_args(args_list)
    settings = Settings()
    from bot.logging import configure_logging

    configure_logging(settings.log_level)
    if args.command == "serve":
        return _serve(settings, args.host, args.port)
    if args.command == "worker":
        return _worker(settings)
    if args.command == "db":
        from storage.migrate import upgrade

        upgrade(settings.database_url)
        print("database is at the latest schema")
        return 0
    if args.command == "seed-demo":
        return asyncio.run(_seed(settings))
    if args.command == "chat":
        return asyncio.run(_chat(settings, args.sender))
    if args.command == "token":
        return asyncio.run(_token(settings, args.role, args.name, args.staff_id))
    if args.command == "import":
        try:
            with open(args.file, encoding="utf-8", newline="") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            print(f"{args.file}: {exc}", file=sys.stderr)
            return 2
        return asyncio.run(_import(settings, args.kind, args.file, text))
    return 2


def _serve(settings: Settings, host: str, port: int) -> int:
    from aiohttp import web

    from bot.app import create_app

    web.run_app(create_app(settings), host=host, port=port, access_log=None)
    return 0


def _worker(settings: Settings) -> int:
    if not settings.redis_url:
        print(
            "careline worker needs CARELINE_REDIS_URL (without it, `careline serve` runs jobs itself)",
            file=sys.stderr,
        )
        return 2
    from arq.worker import run_worker

    from bot.worker import worker_kwargs

    run_worker(worker_kwargs(settings))
    return 0


async def _seed(settings: Settings) -> int:
    from bot.demo import seed_demo
    from bot.services import utc_now
    from storage.db import create_engine, session_factory

    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            added = await seed_demo(session, utc_now())
    finally:
        await engine.dispose()
    print(f"demo practice ready ({added} records added)")
    return 0


async def _chat(settings: Settings, sender: str) -> int:
    """Type as a patient; Careline's replies print as they are produced. Replies are never really sent."""
    from sqlalchemy import select

    from bot.inbound import store_inbound
    from bot.jobs import InProcessQueue
    from bot.services import open_services, utc_now
    from channels.console import ConsoleSender
    from channels.phone import InvalidPhoneNumber, to_e164
    from channels.types import Channel, InboundMessage
    from storage.models import Direction, Message

    try:
        phone = to_e164(sender)
    except InvalidPhoneNumber as exc:
        print(f"--from: {exc}", file=sys.stderr)
        return 2
    local = settings.model_copy(update={"redis_url": "", "twilio_account_sid": "", "twilio_auth_token": ""})
    services = await open_services(local)
    services.sender = ConsoleSender()
    queue = services.queue
    assert isinstance(queue, InProcessQueue)  # noqa: S101  (redis_url was emptied above)
    loop = asyncio.get_running_loop()
    print(f"You are {phone}. Type a text and press Enter; Ctrl-D to quit.")
    last_seen = 0
    try:
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            text = line.rstrip("\n")
            if not text.strip():
                continue
            inbound = InboundMessage(
                channel=Channel.CONSOLE,
                external_id="CH" + uuid.uuid4().hex,
                sender=phone,
                recipient=settings.practice_phone,
                text=text,
                received_at=utc_now(),
            )
            await store_inbound(services, inbound)
            await queue.drain(timeout=30, include_deferred=False)
            async with services.sessions() as session:
                rows = await session.execute(
                    select(Message)
                    .where(
                        Message.to_number == phone,
                        Message.direction == Direction.OUTBOUND,
                        Message.id > last_seen,
                    )
                    .order_by(Message.id)
                )
                for msg in rows.scalars():
                    last_seen = msg.id
                    print(f"Careline [{msg.status}]: {msg.body}")
    finally:
        await services.close()
    return 0


async def _token(settings: Settings, role: str, name: str, staff_id: int | None) -> int:
    from bot.api.auth import create_token
    from bot.services import utc_now
    from storage.db import create_engine, session_factory

    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            token = await create_token(session, role=role, now=utc_now(), name=name, staff_id=staff_id)
    finally:
        await engine.dispose()
    print(token)
    return 0


async def _import(settings: Settings, kind: str, path: str, text: str) -> int:
    """Import in one transaction; the importers write nothing unless every row is valid."""
    from bot.importer import import_rotations, import_staff
    from bot.services import utc_now
    from storage.db import create_engine, session_factory

    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            run = import_staff if kind == "staff" else import_rotations
            report = await run(session, text, utc_now())
    finally:
        await engine.dispose()
    for line in report.lines():
        print(f"{path}: {line}", file=sys.stderr if not report.ok else sys.stdout)
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

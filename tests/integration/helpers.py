"""Small query helpers for integration tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from sqlalchemy import func, select

from bot.jobs import InProcessQueue
from bot.services import Services
from storage.models import Direction, Message, OptOut


async def count_messages(services: Services, direction: str | None = None) -> int:
    stmt = select(func.count()).select_from(Message)
    if direction is not None:
        stmt = stmt.where(Message.direction == direction)
    async with services.sessions() as session:
        return int((await session.execute(stmt)).scalar_one())


async def outbound(services: Services) -> list[Message]:
    async with services.sessions() as session:
        rows = await session.execute(
            select(Message).where(Message.direction == Direction.OUTBOUND).order_by(Message.id)
        )
        return list(rows.scalars())


async def inbound(services: Services) -> list[Message]:
    async with services.sessions() as session:
        rows = await session.execute(select(Message).where(Message.direction == Direction.INBOUND).order_by(Message.id))
        return list(rows.scalars())


async def opted_out(services: Services, phone: str) -> bool:
    async with services.sessions() as session:
        return (await session.get(OptOut, phone)) is not None


async def settle(services: Services) -> None:
    """Wait until every in-process job (and the jobs those jobs queued) has run."""
    queue = services.queue
    assert isinstance(queue, InProcessQueue)
    await queue.drain(timeout=20)


async def eventually(check: Callable[[], Awaitable[bool]], within_s: float = 5.0) -> None:
    """Wait until ``check()`` is true (polling; for work done by another task, worker or dispatcher)."""
    deadline = time.monotonic() + within_s
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {within_s} s")
        await asyncio.sleep(0.02)

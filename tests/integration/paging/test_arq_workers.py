"""Paging on arq + real Redis: two workers side by side page once per step, even with duplicate timer jobs."""

from __future__ import annotations

import asyncio
from typing import Any

from arq.worker import Worker
from sqlalchemy import select

from bot.app import create_app
from bot.keys import SERVICES
from bot.services import Services
from bot.settings import Settings
from bot.worker import worker_kwargs
from storage.paging import EscalationStep, StepStatus
from tests.conftest import PATIENT, post_signed, sms_params
from tests.fakes.twilio_api import FakeTwilio
from tests.integration.paging.helpers import FALLBACK, NURSE_1, NURSE_2, URGENT_TEXT, seed_oncall, steps


async def run_worker(settings: Settings, **overrides: Any) -> None:
    kwargs = worker_kwargs(settings)
    kwargs.update(handle_signals=False, burst=True, poll_delay=0.05, cron_jobs=[], **overrides)
    worker = Worker(**kwargs)
    try:
        await worker.main()
    finally:
        await worker.close()


async def test_two_workers_send_one_page_per_step(
    aiohttp_client: Any, redis_settings: Settings, fake_twilio: FakeTwilio
) -> None:
    client = await aiohttp_client(create_app(redis_settings))
    services: Services = client.app[SERVICES]
    await seed_oncall(services, steps((1, "1", "sms"), (1, "2", "sms")))
    resp = await post_signed(client, redis_settings, "/twilio/sms", sms_params(URGENT_TEXT))
    assert resp.status == 200

    async def duplicate_timers() -> None:
        # The sweeper (or a retry) may queue the same timer again under other job ids: still one page.
        while True:
            async with services.sessions() as session:
                pending = list(
                    (
                        await session.execute(select(EscalationStep).where(EscalationStep.status == StepStatus.PENDING))
                    ).scalars()
                )
            for step in pending:
                for copy in range(3):
                    defer = max(0.0, (step.due_at - services.now()).total_seconds())
                    await services.queue.enqueue("fire_step", step.id, job_id=f"dup:{step.id}:{copy}", defer_s=defer)
            await asyncio.sleep(0.2)

    duplicator = asyncio.create_task(duplicate_timers())
    try:
        await asyncio.gather(run_worker(redis_settings, max_jobs=10), run_worker(redis_settings, max_jobs=10))
    finally:
        duplicator.cancel()
    await asyncio.gather(run_worker(redis_settings, max_jobs=10), return_exceptions=False)
    sent = [m.to for m in fake_twilio.messages_sent]
    assert sent.count(NURSE_1) == 1
    assert sent.count(NURSE_2) == 1
    assert sent.count(FALLBACK) == 1
    assert sent.count(PATIENT) == 1

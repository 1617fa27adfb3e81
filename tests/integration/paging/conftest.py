"""Paging tests alert a fallback number of their own and start emergencies at step 1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from bot.settings import Settings
from tests.conftest import REDIS_URL
from tests.integration.paging.helpers import FALLBACK


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"fallback_phone": FALLBACK, "emergency_start_step": 1}


@pytest.fixture
async def redis_settings(settings: Settings) -> AsyncIterator[Settings]:
    """The test settings with jobs on arq + the test Redis (flushed before and after)."""
    client = aioredis.from_url(REDIS_URL)
    await client.flushdb()
    yield settings.model_copy(update={"redis_url": REDIS_URL})
    await client.flushdb()
    await client.aclose()

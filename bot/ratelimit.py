"""Per-sender rate limit in SMS segments per second (courier #45: count segments, not messages).

A GCRA ("virtual scheduling") bucket: each send pushes the sender's theoretical arrival time forward by
segments / rate; a send is allowed while that backlog is under `burst_s` seconds. The Redis version keeps the
state in Redis with the server's clock, so every web process and worker shares one bucket per sender.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from redis.asyncio import Redis


class RateLimiter(Protocol):
    async def try_acquire(self, key: str, cost: float, rate: float, burst_s: float = 1.0) -> float:
        """0 when the send may go now (and is accounted), else the seconds to wait before trying again."""
        ...


class LocalRateLimiter:
    """Single-process bucket (embedded mode, no Redis)."""

    def __init__(self) -> None:
        self._tat: dict[str, float] = {}

    async def try_acquire(self, key: str, cost: float, rate: float, burst_s: float = 1.0) -> float:
        now = time.monotonic()
        tat = max(self._tat.get(key, now), now)
        backlog = tat - now
        if backlog > burst_s:
            return backlog - burst_s
        self._tat[key] = tat + cost / rate
        return 0.0


_GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local backlog = tat - now
local burst = tonumber(ARGV[3])
if backlog > burst then return tostring(backlog - burst) end
local new_tat = tat + tonumber(ARGV[1]) / tonumber(ARGV[2])
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil((new_tat - now) * 1000) + 1000)
return '0'
"""


class RedisRateLimiter:
    def __init__(self, redis: Redis) -> None:
        self._script = redis.register_script(_GCRA)

    async def try_acquire(self, key: str, cost: float, rate: float, burst_s: float = 1.0) -> float:
        result = await self._script(keys=[f"careline:rl:{key}"], args=[cost, rate, burst_s])
        return float(result.decode() if isinstance(result, bytes) else result)

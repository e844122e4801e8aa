"""Rate limits (moving window) for endpoints that attackers hammer: login, register, reset.

One limiter per process lives on ``runtime.extras``. It counts in memory by default, and in
Redis when ``redis_url`` is set, so that every API process shares the same counts.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Literal

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from meadhall.config import Settings
from meadhall.platform.errors import TooManyRequests
from meadhall.platform.runtime import Runtime

LimitName = Literal["login", "register", "refresh", "password_reset"]

_EXTRAS_KEY = "ratelimit"


@dataclass
class RateLimits:
    """The configured limits and the storage that counts hits against them."""

    storage: Storage
    limiter: MovingWindowRateLimiter
    rules: dict[str, list[RateLimitItem]]

    async def hit(self, name: LimitName, *keys: str) -> None:
        """Count one attempt for each key; raise :class:`TooManyRequests` when one is over.

        Every key is counted even when an earlier one is over, so an attacker rotating one
        dimension (say, the e-mail) still uses up the other (the address).
        """
        retry_after = 0
        for key in keys:
            for item in self.rules[name]:
                if not await self.limiter.hit(item, name, key):
                    stats = await self.limiter.get_window_stats(item, name, key)
                    retry_after = max(retry_after, math.ceil(stats.reset_time - time.time()), 1)
        if retry_after:
            raise TooManyRequests(
                f"too many attempts; try again in {retry_after} seconds",
                retry_after=retry_after,
            )

    async def reset(self) -> None:
        """Forget every count in Redis (tests, or an admin who locked themselves out)."""
        await self.storage.reset()

    async def close(self) -> None:
        if isinstance(self.storage, RedisStorage):
            # limits has no close(); the redis-py client under its bridge holds the pool.
            client = getattr(self.storage.bridge, "storage", None)
            if client is not None:
                await client.aclose()


def build_rate_limits(settings: Settings) -> RateLimits:
    """A limiter for ``settings``: Redis-backed when Redis is configured, else in memory."""
    storage: Storage
    if settings.redis_url:
        storage = RedisStorage(
            "async+" + settings.redis_url,
            implementation="redispy",
            key_prefix=f"{settings.redis_namespace}ratelimit",
        )
    else:
        storage = MemoryStorage()
    rules = {
        "login": parse_many(settings.rate_limit_login),
        "register": parse_many(settings.rate_limit_register),
        "refresh": parse_many(settings.rate_limit_refresh),
        "password_reset": parse_many(settings.rate_limit_password_reset),
    }
    return RateLimits(storage=storage, limiter=MovingWindowRateLimiter(storage), rules=rules)


def rate_limits(runtime: Runtime) -> RateLimits:
    """The process's limiter, created on first use."""
    limits = runtime.extras.get(_EXTRAS_KEY)
    if limits is None:
        limits = build_rate_limits(runtime.settings)
        runtime.extras[_EXTRAS_KEY] = limits
    assert isinstance(limits, RateLimits)
    return limits


async def enforce(runtime: Runtime, name: LimitName, *keys: str) -> None:
    """Count an attempt at ``name`` for each key (client address, e-mail, ...)."""
    await rate_limits(runtime).hit(name, *keys)


async def reset_rate_limits(runtime: Runtime) -> None:
    """Clear every count of this process's limiter (and, with Redis, of all processes)."""
    limits = runtime.extras.get(_EXTRAS_KEY)
    if not isinstance(limits, RateLimits):
        return
    if isinstance(limits.storage, MemoryStorage):
        # A fresh storage rather than clearing this one: its expiry task may be iterating it.
        runtime.extras[_EXTRAS_KEY] = build_rate_limits(runtime.settings)
    else:
        await limits.reset()


async def close_rate_limits(runtime: Runtime) -> None:
    """Release the limiter's connections (called when the runtime shuts down)."""
    limits = runtime.extras.pop(_EXTRAS_KEY, None)
    if isinstance(limits, RateLimits):
        await limits.close()

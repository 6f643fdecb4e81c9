"""Where the throttle's counters live: this process (one front), or Redis (every front shares them)."""

from __future__ import annotations

import math
import secrets
from collections import deque

from redis.asyncio import Redis

from api.core.throttle import Lockout

SWEEP_EVERY = 1024
"""Writes between two sweeps of the in-process store's expired keys (so forgotten keys free their memory)."""


class MemoryFailureStore:
    """Counters of one process: with several uvicorn workers or fronts, each counts its own."""

    def __init__(self) -> None:
        self._failures: dict[str, tuple[deque[float], float]] = {}
        self._lockouts: dict[str, Lockout] = {}
        self._writes = 0

    async def add_failure(self, key: str, at: float, window: float) -> int:
        self._sweep(at)
        times = self._failures.get(key, (deque(), 0.0))[0]
        while times and times[0] <= at - window:
            times.popleft()
        times.append(at)
        self._failures[key] = (times, at + window)
        return len(times)

    async def clear_failures(self, key: str) -> None:
        self._failures.pop(key, None)

    async def lockout(self, key: str) -> Lockout | None:
        return self._lockouts.get(key)

    async def set_lockout(self, key: str, lockout: Lockout, keep: float) -> None:
        self._lockouts[key] = lockout

    async def forget(self, key: str) -> None:
        self._failures.pop(key, None)
        self._lockouts.pop(key, None)

    def _sweep(self, now: float) -> None:
        self._writes += 1
        if self._writes % SWEEP_EVERY:
            return
        for key in [key for key, (_, expires) in self._failures.items() if expires <= now]:
            del self._failures[key]
        for key in [key for key, lockout in self._lockouts.items() if lockout.forget_at <= now]:
            del self._lockouts[key]


class RedisFailureStore:
    """Counters in Redis, shared by every front: failures in a sorted set per key (pruned, added
    and counted in one MULTI), lock-outs in a hash; both expire on their own (on Redis's clock)."""

    def __init__(self, redis: Redis, prefix: str = "peerprep:throttle:") -> None:
        self.redis = redis
        self.prefix = prefix

    async def add_failure(self, key: str, at: float, window: float) -> int:
        name = self.prefix + "f:" + key
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(name, "-inf", at - window)
            pipe.zadd(name, {f"{at}:{secrets.token_hex(4)}": at})
            pipe.zcard(name)
            pipe.expire(name, math.ceil(window))
            _, _, count, _ = await pipe.execute()
        return count

    async def clear_failures(self, key: str) -> None:
        await self.redis.delete(self.prefix + "f:" + key)

    async def lockout(self, key: str) -> Lockout | None:
        fields = await self.redis.hmget(self.prefix + "l:" + key, ["until", "strikes", "forget_at"])
        if None in fields:
            return None
        until, strikes, forget_at = fields
        return Lockout(float(until), int(strikes), float(forget_at))

    async def set_lockout(self, key: str, lockout: Lockout, keep: float) -> None:
        name = self.prefix + "l:" + key
        mapping = {"until": lockout.until, "strikes": lockout.strikes, "forget_at": lockout.forget_at}
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(name, mapping=mapping)
            pipe.expire(name, math.ceil(keep))
            await pipe.execute()

    async def forget(self, key: str) -> None:
        await self.redis.delete(self.prefix + "f:" + key, self.prefix + "l:" + key)

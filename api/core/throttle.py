"""Failure throttling for sign-in and room joins: failures counted per key over a sliding window;
reaching the limit locks the key out, each lock-out within the strike memory twice as long as the
last (up to a cap). Plain logic over a clock and a `FailureStore` (api/core/throttle_stores.py):
in-process, or Redis shared by every front."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from actors.clock import Clock


@dataclass(frozen=True)
class Lockout:
    until: float
    """Wall-clock seconds (epoch) when the key may try again."""
    strikes: int
    """Lock-outs so far within the strike memory; the next lasts `lockout_seconds * 2**strikes`."""
    forget_at: float
    """When the strikes are forgotten (the store may drop the record then)."""


class FailureStore(Protocol):
    async def add_failure(self, key: str, at: float, window: float) -> int:
        """Record a failure at `at`; the failures of `key` within `window` seconds up to `at`."""

    async def clear_failures(self, key: str) -> None: ...

    async def lockout(self, key: str) -> Lockout | None:
        """The key's lock-out record, if the store still has it."""

    async def set_lockout(self, key: str, lockout: Lockout, keep: float) -> None:
        """Store the record for at least `keep` seconds."""

    async def forget(self, key: str) -> None:
        """Drop the key's failures and lock-out record."""


@dataclass(frozen=True)
class Backoff:
    window_seconds: float
    lockout_seconds: float
    lockout_max_seconds: float
    strike_memory_seconds: float
    """How long after a lock-out ends its strike still doubles the next one."""


@dataclass(frozen=True)
class Key:
    """One counter: `name` (e.g. `login:ip:203.0.113.9`) and the failures it allows per window.
    `forget_on_success`: a success clears it (an account's counter), or not (a client IP's: an
    attacker with one valid account must not reset the counter of the IP they guess from)."""

    name: str
    limit: int
    forget_on_success: bool = False


class Throttled(Exception):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"locked out for {retry_after:.0f} s")
        self.retry_after = retry_after


class Throttle:
    def __init__(self, store: FailureStore, clock: Clock, backoff: Backoff) -> None:
        self.store = store
        self.clock = clock
        self.backoff = backoff

    def _now(self) -> float:
        return self.clock.now().timestamp()

    async def check(self, keys: list[Key]) -> None:
        """Raise `Throttled` with the longest wait when any key is locked out."""
        now = self._now()
        waits = [lock.until - now for key in keys if (lock := await self.store.lockout(key.name))]
        wait = max(waits, default=0.0)
        if wait > 0:
            raise Throttled(wait)

    async def failed(self, keys: list[Key]) -> None:
        """Count a failure (or an attempt, where every attempt counts) on every key; a key that
        reaches its limit is locked out."""
        now = self._now()
        for key in keys:
            if await self.store.add_failure(key.name, now, self.backoff.window_seconds) >= key.limit:
                await self._lock_out(key.name, now)

    async def succeeded(self, keys: list[Key]) -> None:
        for key in keys:
            if key.forget_on_success:
                await self.store.forget(key.name)

    async def _lock_out(self, name: str, now: float) -> None:
        previous = await self.store.lockout(name)
        strikes = previous.strikes if previous and previous.forget_at > now else 0
        backoff = self.backoff
        duration = min(backoff.lockout_seconds * 2**strikes, backoff.lockout_max_seconds)
        keep = duration + backoff.strike_memory_seconds
        await self.store.set_lockout(name, Lockout(now + duration, strikes + 1, now + keep), keep)
        await self.store.clear_failures(name)

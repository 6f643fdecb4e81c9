"""Sliding-window rate limits, owned by an actor (e.g. 5 submissions per 10 s per user)."""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable

from actors.clock import Clock


class SlidingWindowLimiter:
    """At most `limit` events per key within any `window` seconds."""

    def __init__(self, limit: int, window: float, clock: Clock) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("limit must be ≥ 1 and window > 0")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._events: dict[Hashable, deque[float]] = {}

    def _recent(self, key: Hashable, now: float) -> deque[float]:
        events = self._events.get(key)
        if events is None:
            return deque()
        while events and events[0] <= now - self.window:
            events.popleft()
        if not events:
            del self._events[key]
        return events

    def acquire(self, key: Hashable) -> float:
        """Record an event and return 0, or return the seconds until one would be allowed."""
        wait = self.wait(key)
        if not wait:
            self._events.setdefault(key, deque()).append(self._clock.monotonic())
        return wait

    def wait(self, key: Hashable) -> float:
        """The seconds until an event would be allowed (0: now), recording nothing."""
        now = self._clock.monotonic()
        events = self._recent(key, now)
        return events[0] + self.window - now if len(events) >= self.limit else 0.0

    def remaining(self, key: Hashable) -> int:
        return self.limit - len(self._recent(key, self._clock.monotonic()))

"""Time as an actor sees it. Actors never read the system clock directly, so tests can
swap in `FakeClock` and move time by hand."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class TimerHandle(ABC):
    @abstractmethod
    def cancel(self) -> None: ...


class Clock(ABC):
    @abstractmethod
    def monotonic(self) -> float:
        """Seconds on a clock that never goes back; for intervals and rate windows."""

    @abstractmethod
    def now(self) -> datetime:
        """Wall time, UTC; for deadlines that are stored and outlive the process."""

    @abstractmethod
    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        """Run `callback` once, `delay` seconds from now (on the running event loop)."""


class _LoopHandle(TimerHandle):
    def __init__(self, handle: asyncio.TimerHandle) -> None:
        self._handle = handle

    def cancel(self) -> None:
        self._handle.cancel()


class RealClock(Clock):
    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(UTC)

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        return _LoopHandle(asyncio.get_running_loop().call_later(max(0.0, delay), callback))


class _FakeHandle(TimerHandle):
    __slots__ = ("cancelled",)

    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeClock(Clock):
    """A clock that moves only when told to; due callbacks fire in time order during `advance`."""

    def __init__(self, start: datetime = datetime(2026, 1, 1, tzinfo=UTC)) -> None:
        self._start = start
        self._elapsed = 0.0
        self._queue: list[tuple[float, int, _FakeHandle, Callable[[], None]]] = []
        self._sequence = itertools.count()

    def monotonic(self) -> float:
        return self._elapsed

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._elapsed)

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        handle = _FakeHandle()
        heapq.heappush(self._queue, (self._elapsed + max(0.0, delay), next(self._sequence), handle, callback))
        return handle

    @property
    def pending(self) -> int:
        return sum(1 for _, _, handle, _ in self._queue if not handle.cancelled)

    async def advance(self, seconds: float) -> None:
        """Move time forward, firing every callback that falls due, and let the work they start run."""
        target = self._elapsed + seconds
        while self._queue and self._queue[0][0] <= target:
            when, _, handle, callback = heapq.heappop(self._queue)
            self._elapsed = when
            if not handle.cancelled:
                callback()
                await settle()
        self._elapsed = target
        await settle()


async def settle(rounds: int = 20) -> None:
    """Yield to the event loop until work started by a callback (mailbox drains) has run."""
    for _ in range(rounds):
        await asyncio.sleep(0)


def iso_utc(value: datetime) -> str:
    """ISO 8601 in UTC with millisecond precision and a `Z`, as the seeds show."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"

"""Sliding-window limiter windows with the fake clock."""

from __future__ import annotations

import pytest

from actors.clock import FakeClock
from actors.rate_limit import SlidingWindowLimiter


async def test_five_per_ten_seconds_per_key():
    clock = FakeClock()
    limiter = SlidingWindowLimiter(5, 10, clock)
    for _ in range(5):
        assert limiter.acquire("ann") == 0
        await clock.advance(1)
    assert limiter.acquire("ann") == pytest.approx(5.0)
    assert limiter.acquire("bob") == 0
    await clock.advance(4.5)
    assert limiter.acquire("ann") == pytest.approx(0.5)
    await clock.advance(0.5)
    assert limiter.acquire("ann") == 0
    assert limiter.remaining("ann") == 0


async def test_refused_attempts_do_not_count_and_idle_keys_are_forgotten():
    clock = FakeClock()
    limiter = SlidingWindowLimiter(2, 1, clock)
    assert limiter.acquire("k") == 0 and limiter.acquire("k") == 0
    for _ in range(10):
        assert limiter.acquire("k") > 0
    await clock.advance(1)
    assert limiter.remaining("k") == 2
    assert limiter._events == {}


def test_bad_limits_are_refused():
    with pytest.raises(ValueError):
        SlidingWindowLimiter(0, 10, FakeClock())
    with pytest.raises(ValueError):
        SlidingWindowLimiter(1, 0, FakeClock())

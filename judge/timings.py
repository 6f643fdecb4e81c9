"""Durations counted into fixed buckets, as plain numbers a host can hand out in a stats snapshot
(the front turns them into a Prometheus histogram; nothing here knows Prometheus)."""

from __future__ import annotations

import bisect

VERDICT_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


class Durations:
    def __init__(self, bounds: tuple[float, ...] = VERDICT_BUCKETS) -> None:
        self.bounds = bounds
        self._counts = [0] * (len(bounds) + 1)
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        self._counts[bisect.bisect_left(self.bounds, seconds)] += 1
        self.total += seconds

    def snapshot(self) -> dict:
        """`buckets`: cumulative (upper bound, count) pairs ending with +Inf; `sum`; `count`."""
        cumulative, running = [], 0
        for bound, count in zip((*self.bounds, float("inf")), self._counts, strict=True):
            running += count
            cumulative.append((bound, running))
        return {"buckets": cumulative, "sum": self.total, "count": running}

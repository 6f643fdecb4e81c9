"""What a load test saw: counters, latency samples and errors, in total and per second of the run."""

from __future__ import annotations

import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from benchmarks.measure import percentile

# Latency series, in milliseconds.
PUSH = "push"  # POST /rooms/submit → the STOMP MESSAGE on /topic/room/{id} that reflects it, on both clients
RELAY = "relay"  # a collab edit sent by one client → applied by the other
MATCH = "match"  # the second user's POST /matching/requests → MATCH_FOUND on the first user's SSE stream
REQUEST = "request"  # every HTTP request (SSE streams excluded)
ROOM_SETUP = "room_setup"  # logins, create, join, start, detail and both STOMP subscriptions of one room


def summary(values: list[float]) -> dict[str, float | int | None]:
    """count, p50, p95, p99, max and mean of latencies in ms (None when there are none)."""
    if not values:
        return {"count": 0, "p50": None, "p95": None, "p99": None, "max": None, "mean": None}
    ordered = sorted(values)
    return {
        "count": len(ordered),
        "p50": percentile(ordered, 0.50),
        "p95": percentile(ordered, 0.95),
        "p99": percentile(ordered, 0.99),
        "max": ordered[-1],
        "mean": statistics.fmean(ordered),
    }


@dataclass
class Second:
    """One second of the run: how many of each event ended in it, and the latencies measured in it."""

    counts: Counter = field(default_factory=Counter)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    server_cpu_cores: float | None = None
    server_memory_bytes: int | None = None


class Recorder:
    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.counts: Counter = Counter()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: Counter = Counter()
        self.routes: dict[str, list[float]] = defaultdict(list)
        self.route_errors: Counter = Counter()
        self.seconds: list[Second] = []

    def restart(self) -> None:
        """Second 0 is now: the load starts."""
        self.started = time.perf_counter()
        self.seconds = []

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def _second(self) -> Second:
        index = int(self.elapsed())
        while len(self.seconds) <= index:
            self.seconds.append(Second())
        return self.seconds[index]

    def count(self, name: str, amount: int = 1) -> None:
        self.counts[name] += amount
        self._second().counts[name] += amount

    def latency(self, name: str, ms: float) -> None:
        self.latencies[name].append(ms)
        second = self._second()
        second.latencies[name].append(ms)
        second.counts[name] += 1

    def request(self, route: str, ms: float, ok: bool) -> None:
        self.routes[route].append(ms)
        if not ok:
            self.route_errors[route] += 1
        self.latency(REQUEST, ms)

    def error(self, kind: str) -> None:
        self.errors[kind] += 1
        self._second().counts["errors"] += 1

    def server_sample(self, cpu_cores: float | None, memory_bytes: int | None) -> None:
        second = self._second()
        second.server_cpu_cores, second.server_memory_bytes = cpu_cores, memory_bytes

    def recent(self, name: str, seconds: int = 5) -> list[float]:
        """The latencies of `name` measured in the last `seconds` whole seconds."""
        return [ms for second in self.seconds[-seconds:] for ms in second.latencies.get(name, ())]

    def rate(self, name: str, seconds: int = 5) -> float:
        """Events of `name` per second over the last `seconds` whole seconds (the current one excluded)."""
        done = self.seconds[:-1][-seconds:]
        return sum(second.counts.get(name, 0) for second in done) / len(done) if done else 0.0

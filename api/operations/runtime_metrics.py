"""What `/metrics` learns at scrape time from other processes: the actor hosts' stats (one Ray
call per host, within the runtime's call timeout) and this front's event-bus counts, as
Prometheus families. A host that does not answer is counted, not an error.

Per-host series carry a `host` label (the host actor's name); hosts are few (at most
`ACTOR_MAX_HOSTS_PER_NODE` per node), and a restarted host restarts its counters, which
Prometheus's `rate()` handles per series.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.utils import floatToGoString

from actors.hosting.client import ActorUnavailable
from actors.hosting.runtime import ActorRuntime

# (kind, figure an actor of that kind reports in Actor.stats) → (metric name, help)
ACTOR_FIGURES = {
    ("room", "active"): ("peerprep_contest_rooms_active", "Contest rooms whose contest is running, per host"),
    ("pool", "waiting"): ("peerprep_matching_pool_waiting", "Match requests waiting in the matchmaking pool, per host"),
}


@dataclass(frozen=True)
class RuntimeSnapshot:
    """`hosts`: each host's stats, None where it did not answer; None when the directory did not."""

    hosts: dict[str, dict | None] | None
    bus: dict[str, int]

    @classmethod
    async def take(cls, runtime: ActorRuntime) -> RuntimeSnapshot:
        try:
            hosts = await runtime.client.cluster_stats()
        except ActorUnavailable:
            hosts = None
        return cls(hosts, runtime.bus.stats())

    def collect(self) -> Iterator[Metric]:
        """The prometheus_client collector protocol, so the snapshot renders with `generate_latest`."""
        yield from self._bus()
        yield GaugeMetricFamily(
            "peerprep_actor_directory_up",
            "1 when the actor directory answered this scrape",
            int(self.hosts is not None),
        )
        if self.hosts is None:
            return
        answered = {name: stats for name, stats in self.hosts.items() if stats is not None}
        yield GaugeMetricFamily("peerprep_actor_hosts", "Actor hosts the directory knows", len(self.hosts))
        yield GaugeMetricFamily(
            "peerprep_actor_hosts_unanswered",
            "Actor hosts that gave no stats within the call timeout",
            len(self.hosts) - len(answered),
        )
        yield from self._hosts(answered)
        yield from self._judges(answered)

    def _bus(self) -> Iterator[Metric]:
        yield GaugeMetricFamily("peerprep_event_bus_topics", "Topics this front is subscribed to", self.bus["topics"])
        for name, help_text in (
            ("delivered", "Events handed to this front's subscribers"),
            ("dropped", "Events a slow subscriber lost (EVENT_OVERFLOW=drop-oldest)"),
            ("disconnected", "Subscribers closed for falling behind (EVENT_OVERFLOW=disconnect)"),
        ):
            yield CounterMetricFamily(f"peerprep_event_bus_{name}", help_text, self.bus[name])

    @staticmethod
    def _hosts(hosts: dict[str, dict]) -> Iterator[Metric]:
        capacity = GaugeMetricFamily("peerprep_actor_host_capacity", "Actors a host may hold", labels=["host"])
        live = GaugeMetricFamily(
            "peerprep_actors_live", "Live (activated) actors, by host and kind", labels=["host", "kind"]
        )
        counters = {
            key: CounterMetricFamily(f"peerprep_actor_{key}", help_text, labels=["host"])
            for key, help_text in (
                ("activations", "Actors activated by a host"),
                ("passivations", "Actors passivated by a host"),
                ("messages", "Messages delivered to a host's actors"),
                ("batches", "Batched Ray calls a host received"),
            )
        }
        dropped = CounterMetricFamily(
            "peerprep_actor_host_events_dropped", "Events a host dropped before they left it", labels=["host"]
        )
        figures = {
            key: GaugeMetricFamily(name, help_text, labels=["host"]) for key, (name, help_text) in ACTOR_FIGURES.items()
        }
        for host, stats in sorted(hosts.items()):
            capacity.add_metric([host], stats["capacity"])
            for key, family in counters.items():
                family.add_metric([host], stats[key])
            dropped.add_metric([host], stats["events_dropped"])
            for kind, numbers in sorted(stats["kinds"].items()):
                live.add_metric([host, kind], numbers["live"])
            for (kind, figure), family in figures.items():
                if kind in stats["kinds"]:
                    family.add_metric([host], stats["kinds"][kind].get(figure, 0))
        yield from (capacity, live, *counters.values(), dropped, *figures.values())

    @staticmethod
    def _judges(hosts: dict[str, dict]) -> Iterator[Metric]:
        gauges = {
            key: GaugeMetricFamily(f"peerprep_judge_{name}", help_text, labels=["host"])
            for key, name, help_text in (
                ("waiting", "queue_depth", "Admitted submissions waiting for a judging slot, per host"),
                ("judging", "in_flight", "Submissions being judged now, per host"),
                ("concurrency", "concurrency", "Submissions a host judges at once (JUDGE_CONCURRENCY)"),
                ("queue_limit", "queue_limit", "Submissions that may wait beyond those (JUDGE_QUEUE_LIMIT)"),
            )
        }
        rejected = CounterMetricFamily(
            "peerprep_judge_rejected", "Submissions refused because the judge queue was full (503)", labels=["host"]
        )
        verdicts = CounterMetricFamily(
            "peerprep_judge_verdicts", "Verdicts, by host and status", labels=["host", "status"]
        )
        times = HistogramMetricFamily(
            "peerprep_judge_verdict_seconds",
            "Seconds from a submission reaching the judge queue to its verdict (queueing included)",
            labels=["host"],
        )
        for host, stats in sorted(hosts.items()):
            judge = stats["shared"].get("judge")
            if judge is None:
                continue
            for key, family in gauges.items():
                family.add_metric([host], judge[key])
            rejected.add_metric([host], judge["rejected"])
            for status, count in sorted(judge["verdicts"].items()):
                verdicts.add_metric([host, status], count)
            seconds = judge["verdict_seconds"]
            buckets = [(floatToGoString(bound), count) for bound, count in seconds["buckets"]]
            times.add_metric([host], buckets, seconds["sum"])
        yield from (*gauges.values(), rejected, verdicts, times)

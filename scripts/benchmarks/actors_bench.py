"""`scripts/bench actors`: the actor runtime's five figures, measured in one run.

1. actor-routed requests/s over the same app's plain route (and the naive one-Ray-call route);
2. memory per live room-sized actor: the server's process tree (front + Ray) with 10,000
   live minus with none;
3. idle CPU of that tree with 10,000 live idle actors (each with an armed 10-minute timer);
4. activation of a new actor through the front (HTTP), p50/p99, with 10,000+ live;
5. event fan-out: publish in a host → delivered to the subscribed front, p50/p99.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from pathlib import Path

import httpx
from measure import idle_cpu_percent, percentile, pss_bytes, wrk
from reporting import finish

from benchmarks.server import bench_app

ROOT = Path(__file__).resolve().parents[2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--actors", type=int, default=10_000, help="live actors for memory and idle CPU")
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--idle-seconds", type=int, default=30, help="length of each idle CPU window")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--json", type=Path, default=ROOT / "var" / "bench-actors.json")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed (Debian: apt-get install wrk)")

    results: dict = {}
    with bench_app() as (base, server):
        http = httpx.Client(base_url=base, timeout=120)

        print(f"[1/5] idle cluster: memory and CPU with no actors ({args.idle_seconds} s)", flush=True)
        memory_none = pss_bytes(server.pid)
        cpu_none = idle_cpu_percent(server.pid, args.idle_seconds)
        print(f"[2/5] activating {args.actors} room-sized actors", flush=True)
        http.post("/populate", params={"start": 0, "count": args.actors}).raise_for_status()
        time.sleep(2)
        memory_full = pss_bytes(server.pid)
        results["memory_per_actor_kb"] = (memory_full - memory_none) / args.actors / 1024
        cpu_live = idle_cpu_percent(server.pid, args.idle_seconds)
        results["idle_cpu_none_pct"] = sum(cpu_none.values())
        results["idle_cpu_live_pct"] = sum(cpu_live.values())
        results["idle_cpu_live_pct_by_process"] = {role: share for role, share in cpu_live.items() if share > 0}

        print("[3/5] throughput: plain route, actor route, naive route (wrk)", flush=True)
        plain = wrk(base, "plain", args.seconds, args.connections)
        routed = wrk(base, "actor", args.seconds, args.connections)
        naive = wrk(base, "naive", args.seconds, args.connections)
        results.update(plain_rps=plain, actor_rps=routed, naive_rps=naive)
        results["actor_over_plain"] = routed / plain
        results["naive_over_plain"] = naive / plain

        print("[4/5] activation of new actors through the front", flush=True)
        latencies = []
        for index in range(1000):
            started = time.perf_counter()
            http.get(f"/actor/{1_000_000 + index}").raise_for_status()
            latencies.append((time.perf_counter() - started) * 1000)
        latencies.sort()
        results["activation_p50_ms"] = statistics.median(latencies)
        results["activation_p99_ms"] = percentile(latencies, 0.99)

        print("[5/5] event fan-out to the front", flush=True)
        fanout = http.get("/fanout", params={"samples": 1000}).json()
        results["fanout_p50_ms"] = fanout["p50"]
        results["fanout_p99_ms"] = fanout["p99"]
        hosts = http.get("/hosts").json()
        results["live_actors"] = sum(stats["actors"] for stats in hosts.values())

    report = [
        ("actor route / plain route throughput", f"{results['actor_over_plain']:.2f}x", "≥ 0.5x",
         f"{results['actor_rps']:.0f} vs {results['plain_rps']:.0f} req/s; naive {results['naive_over_plain']:.2f}x"),
        ("memory per live room-sized actor", f"{results['memory_per_actor_kb']:.1f} KB", "≤ 35 KB",
         f"{args.actors} live, process tree PSS"),
        ("idle CPU with live actors", f"{results['idle_cpu_live_pct']:.2f} % of a core", "≤ 2 %",
         f"{results['idle_cpu_none_pct']:.2f} % with none, {args.idle_seconds} s"),
        ("activation through the front, p99", f"{results['activation_p99_ms']:.2f} ms", "≤ 10 ms",
         f"p50 {results['activation_p50_ms']:.2f} ms, {results['live_actors']} live"),
        ("event fan-out publish → front, p99", f"{results['fanout_p99_ms']:.2f} ms", "≤ 5 ms",
         f"p50 {results['fanout_p50_ms']:.2f} ms, Ray transport"),
    ]  # fmt: skip
    lines = [f"{name:40} {value:>18}   target {target:8}  ({note})" for name, value, target, note in report]
    by_process = sorted(results["idle_cpu_live_pct_by_process"].items(), key=lambda item: -item[1])
    lines.append("  idle CPU by process: " + ", ".join(f"{role} {share:.2f} %" for role, share in by_process))
    return finish(lines, results, args.json)


if __name__ == "__main__":
    sys.exit(main())

"""`scripts/bench ray-floor`: idle CPU of a bare embedded Ray (the server's options, one idle async
actor) with the single-node checks slowed (`SINGLE_NODE_CHECKS`) and at Ray's defaults, in
alternating pairs, by process, from the scheduler's per-thread counters."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def measure_one(slowed: bool, seconds: float) -> dict[str, float]:
    """In this process: start Ray, idle, return percent of a core by role."""
    import ray

    from actors.hosting.runtime import EMBEDDED_RAY_SYSTEM_CONFIG, SINGLE_NODE_CHECKS, stop_unused_helpers
    from benchmarks.measure import idle_cpu_percent

    config = dict(EMBEDDED_RAY_SYSTEM_CONFIG)
    if not slowed:
        for key in SINGLE_NODE_CHECKS:
            del config[key]
    ray.init(address="local", include_dashboard=False, log_to_driver=False, object_store_memory=80 * 2**20,
             _node_ip_address="127.0.0.1", _system_config=config)  # fmt: skip
    stop_unused_helpers()

    @ray.remote(num_cpus=0)
    class Idle:
        async def ping(self) -> int:
            return 1

    idle = Idle.remote()
    ray.get(idle.ping.remote())
    time.sleep(8)
    shares = idle_cpu_percent(os.getpid(), seconds)
    ray.shutdown()
    return shares


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--child", choices=["slowed", "defaults"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure_one(args.child == "slowed", args.seconds)))
        return 0
    for pair in range(1, args.pairs + 1):
        for variant in ("slowed", "defaults"):
            command = [sys.executable, __file__, "--child", variant, "--seconds", str(args.seconds)]
            out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True).stdout
            shares = json.loads(out.strip().splitlines()[-1])
            by_role = ", ".join(f"{role} {share:.2f}" for role, share in sorted(shares.items(), key=lambda i: -i[1]))
            print(f"pair {pair} {variant:<8} {sum(shares.values()):.2f} % of a core  ({by_role})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

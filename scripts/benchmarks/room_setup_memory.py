"""`scripts/bench room-setup`: what setting up a live room (create, join, start) leaves in each of
the server's processes, PSS in KB per room.

The server is `peerprep serve` on the embedded defaults with the test judge. Warm-up rooms are
set up first, so one-time costs (first use of routes and models) stay out of the figure. Run it
with `MALLOC_ARENA_MAX=N` in the environment to compare malloc arena limits.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections import Counter

import httpx
import psutil

from benchmarks.contest_bench import in_chunks, live_room
from benchmarks.measure import tree
from benchmarks.server import served


def process_kind(process: psutil.Process, front: int) -> str:
    if process.pid == front:
        return "front"
    command = " ".join(process.cmdline())
    for marker, kind in (("gcs_server", "GCS"), ("raylet", "raylet"), ("HostActor", "room host")):
        if marker in command:
            return kind
    return "other"


def pss_by_kind(front: int) -> Counter:
    sizes: Counter = Counter()
    for process in tree(front):
        try:
            sizes[process_kind(process, front)] += process.memory_full_info().pss
        except psutil.Error:
            continue
    return sizes


async def measure(rooms: int, warm_up: int) -> None:
    with served(JUDGE_BACKEND="test") as (base, server):
        async with httpx.AsyncClient(base_url=base, timeout=120) as http:
            await in_chunks([live_room(http, 90_000 + 2 * n, 90_001 + 2 * n) for n in range(warm_up)])
            await asyncio.sleep(3)
            before = pss_by_kind(server.pid)
            await in_chunks([live_room(http, 10_000 + 2 * n, 10_001 + 2 * n) for n in range(rooms)])
            await asyncio.sleep(3)
            after = pss_by_kind(server.pid)
    arenas = os.environ.get("MALLOC_ARENA_MAX", "unset (peerprep serve sets 2)")
    print(f"{rooms} rooms set up after {warm_up} warm-up rooms, MALLOC_ARENA_MAX {arenas}; PSS growth per room:")
    for kind in sorted(set(before) | set(after)):
        print(f"  {kind:10} {(after[kind] - before[kind]) / rooms / 1024:7.1f} KB")
    print(f"  {'total':10} {(sum(after.values()) - sum(before.values())) / rooms / 1024:7.1f} KB")


def main() -> None:
    parser = argparse.ArgumentParser(prog="scripts/bench room-setup", description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, default=300)
    parser.add_argument("--warm-up", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(measure(args.rooms, args.warm_up))


if __name__ == "__main__":
    main()

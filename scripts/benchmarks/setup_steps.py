"""`scripts/bench setup-steps`: how long each step of a room's set-up takes, one room at a time.

Serves the real server (`peerprep serve`, SQLite, embedded Ray, the test judge) and sets up
`--rooms` rooms in turn (two dev logins, then create, join, start, each timed), after 50 not
counted. `--tree DIR` serves another checkout of this repository instead (with this one's
.venv), so that two commits are compared in the same minutes:

    git worktree add ../base <commit> && ln -s "$PWD/.venv" ../base/.venv
    scripts/bench setup-steps --tree ../base; scripts/bench setup-steps
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import time
from pathlib import Path

import httpx

WARM_UP = 50


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, default=300)
    parser.add_argument("--tree", type=Path, default=Path(__file__).resolve().parents[2])
    options = parser.parse_args()
    tree = options.tree.resolve()
    sys.path[:0] = [str(tree), str(tree / "scripts")]
    served = importlib.import_module("benchmarks.server").served
    steps: dict[str, list[float]] = {"create": [], "join": [], "start": [], "set-up": []}
    with served(JUDGE_BACKEND="test") as (base, _), httpx.Client(base_url=base, timeout=30) as http:
        for n in range(options.rooms + WARM_UP):
            host, guest = (
                {"Authorization": "Bearer " + http.post(f"/auth/login?userId={20_000 + 2 * n + k}").json()["token"]}
                for k in (0, 1)
            )
            started = time.perf_counter()
            room = http.post("/rooms/create?password=1", headers=host).raise_for_status().json()
            created = time.perf_counter()
            http.post(f"/rooms/join?roomId={room['id']}&password=1", headers=guest).raise_for_status()
            joined = time.perf_counter()
            http.post(f"/rooms/start?roomId={room['id']}", headers=host).raise_for_status()
            done = time.perf_counter()
            if n >= WARM_UP:
                for name, seconds in zip(steps, (created - started, joined - created, done - joined, done - started),
                                         strict=True):  # fmt: skip
                    steps[name].append(seconds)
    print(f"room set-up steps, {options.rooms} rooms one at a time, {tree}")
    for name, values in steps.items():
        print(f"  {name:7} p50 {percentile(values, 0.5):6.2f} ms   p90 {percentile(values, 0.9):6.2f} ms   "
              f"mean {statistics.mean(values) * 1000:6.2f} ms")  # fmt: skip


if __name__ == "__main__":
    main()

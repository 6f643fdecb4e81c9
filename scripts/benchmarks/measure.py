"""What the benchmarks and the load tester measure with: the server's process tree (memory, CPU),
percentiles, and the start of a server (a free port, waiting until it serves)."""

from __future__ import annotations

import math
import os
import re
import socket
import subprocess
import tempfile
import time

import psutil

from ops.serving import FrontNotReady, wait_ready


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tree(pid: int) -> list[psutil.Process]:
    """The process and all its descendants (for a server: the front and the Ray processes it started)."""
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def pss_bytes(pid: int) -> int:
    """Memory of the process tree, PSS: pages the processes share are counted once."""
    return sum(pss_bytes_by_role(pid).values())


def pss_bytes_by_role(pid: int) -> dict[str, int]:
    """`pss_bytes`, summed by `role`."""
    totals: dict[str, int] = {}
    for process in tree(pid):
        try:
            pss, key = process.memory_full_info().pss, role(process, pid)
        except psutil.Error:
            continue
        totals[key] = totals.get(key, 0) + pss
    return totals


def role(process: psutil.Process, root: int) -> str:
    """What a process of the server's tree is: the front, a Ray actor's worker by its class, or
    the Ray process by its program name (gcs_server, raylet, ...)."""
    if process.pid == root:
        return "front"
    name = process.name()
    if name.startswith("ray::"):
        return name.removeprefix("ray::")
    return name


def cpu_seconds_by_role(pid: int) -> dict[str, float]:
    """CPU time (user + system) the live processes of the tree have used so far, summed by `role`."""
    totals: dict[str, float] = {}
    for process in tree(pid):
        try:
            times = process.cpu_times()
            key = role(process, pid)
        except psutil.Error:
            continue
        totals[key] = totals.get(key, 0.0) + times.user + times.system
    return totals


def scheduled_seconds_by_role(pid: int) -> dict[str, float]:
    """CPU time the live threads of the tree have used so far, summed by `role`, to the
    nanosecond: the scheduler's per-thread counters (`/proc/<pid>/task/<tid>/schedstat`).

    For idle windows, where `cpu_seconds_by_role`'s clock ticks (10 ms per process) are as large
    as what is measured. Time of threads that exit is lost, so not for windows under load.
    """
    totals: dict[str, float] = {}
    for process in tree(pid):
        try:
            key = role(process, pid)
            tids = os.listdir(f"/proc/{process.pid}/task")
        except (psutil.Error, OSError):
            continue
        for tid in tids:
            try:
                with open(f"/proc/{process.pid}/task/{tid}/schedstat") as counters:
                    nanoseconds = int(counters.read().split()[0])
            except (OSError, ValueError, IndexError):
                continue  # the thread exited
            totals[key] = totals.get(key, 0.0) + nanoseconds / 1e9
    return totals


def idle_cpu_percent(pid: int, seconds: float) -> dict[str, float]:
    """Percent of a core each role of the tree used over the next `seconds` (`scheduled_seconds_by_role`)."""
    before = scheduled_seconds_by_role(pid)
    time.sleep(seconds)
    after = scheduled_seconds_by_role(pid)
    return {role: round((spent - before.get(role, 0.0)) / seconds * 100, 2) for role, spent in after.items()}


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the live processes of the tree have used so far."""
    return sum(cpu_seconds_by_role(pid).values())


def histogram_quantile(buckets: dict[float, float], fraction: float) -> float:
    """A quantile of a Prometheus histogram from its cumulative counts by upper bound (`+Inf`
    included), interpolated linearly inside the bucket it falls in, as PromQL's `histogram_quantile`."""
    bounds = sorted(buckets)
    rank = fraction * buckets[bounds[-1]]
    lower = below = 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank and count > below:
            return lower if math.isinf(bound) else lower + (bound - lower) * (rank - below) / (count - below)
        lower, below = bound, count
    return lower


def wait_until_serving(url: str, server: subprocess.Popen, patience: float) -> None:
    """Return once `url` answers 200, then give the server two more seconds to settle; exit if it dies."""
    try:
        wait_ready(url, server, patience)
    except FrontNotReady as error:
        raise SystemExit(str(error)) from None
    time.sleep(2)


def percentile(sorted_values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of values sorted ascending."""
    return sorted_values[max(0, int(len(sorted_values) * fraction) - 1)]


WRK_SCRIPT = 'request = function() return wrk.format("GET", "/{route}/" .. math.random(0, 999)) end\n'


def wrk(base: str, route: str, seconds: int, connections: int) -> float:
    """Requests/s of `wrk -t1` on `GET /{route}/{0..999}` after a 2 s warm-up; exits on any failed response."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT.replace("{route}", route))
    subprocess.run(["wrk", "-t1", f"-c{connections}", "-d2s", "-s", script.name, base], capture_output=True)
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", script.name, base],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(script.name)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"wrk saw {errors.group(1)} failed responses on /{route}:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

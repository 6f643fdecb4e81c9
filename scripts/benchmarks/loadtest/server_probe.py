"""The server's memory and CPU while it is under load: its whole process tree (front and Ray), sampled.

The server is the process given by --server-pid, else the process listening on the URL's port
on this machine (found through /proc by psutil). Memory is PSS, so pages the processes share are
counted once; CPU is in cores (1.0 = one core busy all the time).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from urllib.parse import urlsplit

import psutil

from benchmarks.loadtest.recorder import Recorder
from benchmarks.measure import cpu_seconds, pss_bytes


def listening_pid(url: str) -> tuple[int | None, str]:
    """(pid, how it was found) of the process listening on the URL's port here, or (None, why not)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        address = ipaddress.ip_address(socket.gethostbyname(parts.hostname or ""))
    except (OSError, ValueError):
        return None, f"unknown: cannot resolve {parts.hostname!r}"
    local = {ipaddress.ip_address(a.address) for addrs in psutil.net_if_addrs().values() for a in addrs
             if a.family == socket.AF_INET}  # fmt: skip
    if not address.is_loopback and address not in local:
        return None, f"unknown: {parts.hostname} is not this machine (give --server-pid when it is)"
    try:
        listeners = {c.pid for c in psutil.net_connections("tcp") if c.status == psutil.CONN_LISTEN
                     and c.laddr and c.laddr.port == port and c.pid}  # fmt: skip
    except psutil.AccessDenied:
        return None, "unknown: not allowed to list sockets (run as the server's user, or give --server-pid)"
    if not listeners:
        return None, f"unknown: no process of ours listens on port {port} (give --server-pid)"
    # With several workers every one holds the socket: the one whose parent does not is the root.
    roots = [pid for pid in listeners if psutil.Process(pid).ppid() not in listeners]
    return min(roots or listeners), f"the process listening on port {port}"


class ServerMonitor:
    """Samples the tree's CPU and PSS every `every` seconds into the recorder, off the event loop."""

    def __init__(self, pid: int | None, found: str, recorder: Recorder, every: float = 2.0) -> None:
        self.pid = pid
        self.found = found
        self.recorder = recorder
        self.every = every
        self.memory: list[int] = []
        self.cores: list[float] = []
        self.cpu_total = 0.0
        self.cpu_span = 0.0
        self._previous: tuple[tuple[float, int], float] | None = None
        self.client = psutil.Process()
        self.client_cpu_start = self._client_cpu()
        self.latest_cores: float | None = None
        self.latest_memory: int | None = None

    def _client_cpu(self) -> float:
        times = self.client.cpu_times()
        return times.user + times.system

    def alive(self) -> bool:
        return self.pid is not None and psutil.pid_exists(self.pid)

    async def start(self) -> None:
        """The first sample, taken before the load starts."""
        if self.alive():
            self._previous = await asyncio.to_thread(self._sample), time.perf_counter()
            self.memory.append(self._previous[0][1])

    async def run(self) -> None:
        """A sample every `every` seconds until cancelled or the server is gone."""
        while self.memory and self.alive():
            await asyncio.sleep(self.every)
            await self.sample()

    async def sample(self) -> None:
        """One sample: memory now, and CPU since the previous sample."""
        if not self.memory or not self.alive():
            return
        (previous, _), at = self._previous
        cpu, memory = await asyncio.to_thread(self._sample)
        now = time.perf_counter()
        cores = (cpu - previous) / (now - at)
        self.cpu_total += cpu - previous
        self.cpu_span += now - at
        self._previous = (cpu, memory), now
        self.memory.append(memory)
        self.cores.append(cores)
        self.latest_cores, self.latest_memory = cores, memory
        self.recorder.server_sample(cores, memory)

    def _sample(self) -> tuple[float, int]:
        return cpu_seconds(self.pid), pss_bytes(self.pid)

    def client_cpu_seconds(self) -> float:
        return self._client_cpu() - self.client_cpu_start

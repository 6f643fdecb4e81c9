"""Servers for a benchmark, on a free port, stopped (SIGTERM) when the block ends: the real
server (`peerprep serve` on a fresh SQLite database, migrated and seeded), or the actor
bench's front (`benchmarks.actor_app`)."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.measure import free_port, wait_until_serving

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def served(**settings: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """(base URL, server process) with DEV_LOGIN on and `settings` as extra environment."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT}:{ROOT / 'scripts'}",
        "DATA_DIR": tempfile.mkdtemp(prefix="bench-server-"),
        "PORT": str(port),
        "DEV_LOGIN": "true",
        "ACTOR_NAMESPACE": f"bench-{secrets.token_hex(3)}",
        "LOG_LEVEL": "warning",
        # The bench's clients all connect from loopback.
        "SOCKETS_PER_IP": "1000000",
        **settings,
    }
    for command in ("migrate", "seed-questions"):
        subprocess.run([sys.executable, "-m", "api.cli", command], env=env, cwd=ROOT, check=True, capture_output=True)
    server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    with _running(server, f"{base}/ready", patience=120):
        yield base, server


@contextmanager
def bench_app(**environment: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """(base URL, process) of the actor bench's front, with `environment` set (e.g. ACTOR_BATCHES_IN_FLIGHT)."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'scripts'}", **environment}
    server = subprocess.Popen([sys.executable, "-m", "benchmarks.actor_app", "--port", str(port)], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    with _running(server, f"{base}/plain/1", patience=90):
        yield base, server


@contextmanager
def _running(server: subprocess.Popen, ready_url: str, patience: float) -> Iterator[None]:
    """Once `ready_url` answers, until the block ends; then SIGTERM (SIGKILL after 60 s)."""
    try:
        wait_until_serving(ready_url, server, patience)
        yield
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            server.kill()

"""Ray nodes as child processes: `ray start --block`, each in a process group of its own.

scripts/cluster-local and the tests that need a Ray cluster outside their own process start
nodes this way. They listen on loopback addresses other than 127.0.0.1 (Ray rewrites
127.0.0.1 to the machine's outward address): `HEAD_IP` for a head, `SECOND_NODE_IP` for a
node that joins it. They require a token (`RAY_AUTH_MODE=token`), so that no other Ray on
the machine joins them by accident; every process of the cluster needs the same token.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

RAY = [sys.executable, "-m", "ray.scripts.scripts"]
HEAD_IP = "127.0.0.2"
SECOND_NODE_IP = "127.0.0.3"
# What `ray start` prints once its node has joined the cluster (and before it blocks).
STARTED = "Ray runtime started."


class NodeStartFailed(RuntimeError):
    """The node's process exited or did not report itself started in time; the message holds its log."""


def auth_environment(token: str | None = None) -> dict[str, str]:
    """The environment of every process of a token-authenticated cluster (a fresh token by default)."""
    return {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token or secrets.token_hex(24)}


@dataclass(frozen=True)
class NodeSpec:
    """A head (`head_port` set: its GCS port) or a node joining the head at `join` ("ip:port")."""

    node_ip: str
    head_port: int | None = None
    join: str | None = None
    num_cpus: int = 1
    resources: dict[str, float] = field(default_factory=dict)
    object_store_bytes: int = 80_000_000

    def __post_init__(self) -> None:
        if (self.head_port is None) == (self.join is None):
            raise ValueError("a node is either a head (head_port) or joins one (join)")

    def command(self) -> list[str]:
        command = [
            *RAY, "start", "--block", "--disable-usage-stats", f"--node-ip-address={self.node_ip}",
            f"--num-cpus={self.num_cpus}", f"--object-store-memory={self.object_store_bytes}",
        ]  # fmt: skip
        if self.resources:
            command.append(f"--resources={json.dumps(self.resources)}")
        if self.head_port is not None:
            return [*command, "--head", f"--port={self.head_port}", "--include-dashboard=false"]
        return [*command, f"--address={self.join}"]


def launch_node(spec: NodeSpec, log_path: Path, env: dict[str, str]) -> subprocess.Popen:
    """Starts the node's process, its output to `log_path`; `wait_started` says when it has joined.

    A node may be launched while its head is still starting: it waits for the head.
    """
    with open(log_path, "w") as log:
        return subprocess.Popen(
            spec.command(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, env=env,
        )  # fmt: skip


def wait_started(process: subprocess.Popen, log_path: Path, timeout: float = 120.0) -> None:
    """Returns once the node has joined; stops it and raises NodeStartFailed if it does not."""
    deadline = time.monotonic() + timeout
    while STARTED not in log_path.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_group(process.pid)
            raise NodeStartFailed(f"a Ray node did not start; its log ({log_path}):\n{log_path.read_text()}")
        time.sleep(0.2)


def start_node(spec: NodeSpec, log_path: Path, env: dict[str, str], timeout: float = 120.0) -> subprocess.Popen:
    process = launch_node(spec, log_path, env)
    wait_started(process, log_path, timeout)
    return process


def group_alive(pgid: int) -> bool:
    """Whether any process of the group still runs (a leader that is this process's child is reaped)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pgid, os.WNOHANG)
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_group(pgid: int, grace: float = 10.0) -> None:
    """SIGTERM to a node's (or front's) process group; SIGKILL to what remains after `grace` seconds.

    A head's GCS takes ~30 s to finish a graceful stop; nothing of a stopped cluster needs it.
    """
    for stop_signal, patience in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pgid, stop_signal)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            if not group_alive(pgid):
                return
            time.sleep(0.1)

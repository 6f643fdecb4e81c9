"""Judge workers pinned to judge nodes by a custom Ray resource, on a two-node cluster started as an
operator would: a head without the resource (127.0.0.2) and a judge node started with
`--resources '{"judge": 2}'` (127.0.0.3), both on loopback. The driver runs in a process of its
own (tests/judge/pinned_driver.py): this test process already belongs to the shared test Ray.
The cluster uses token authentication, as tests/test_two_fronts.py's does.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.services import free_port
from tests.test_server_e2e import ROOT

RAY = str(Path(sys.executable).with_name("ray"))
HEAD_IP, JUDGE_NODE_IP = "127.0.0.2", "127.0.0.3"
NODE_FLAGS = ["--num-cpus=1", "--block", "--disable-usage-stats", "--object-store-memory=80000000"]


def accepts(address: str) -> bool:
    host, _, port = address.rpartition(":")
    with socket.socket() as sock:
        return sock.connect_ex((host, int(port))) == 0


@contextmanager
def judge_cluster(logs: Path, env: dict[str, str]) -> Iterator[str]:
    """The head's address, with the judge node started; both stopped afterwards."""
    port = free_port()
    address = f"{HEAD_IP}:{port}"
    nodes: list[subprocess.Popen] = []

    def start(name: str, *flags: str) -> None:
        with open(logs / f"{name}.log", "w") as log:
            command = [RAY, "start", *NODE_FLAGS, *flags]
            nodes.append(
                subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env)
            )

    try:
        start("head", "--head", f"--port={port}", "--include-dashboard=false", f"--node-ip-address={HEAD_IP}")
        deadline = time.monotonic() + 60
        while not accepts(address):
            if nodes[0].poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the Ray head did not start: {(logs / 'head.log').read_text()}")
            time.sleep(0.2)
        start("judge-node", f"--address={address}", '--resources={"judge": 2}', f"--node-ip-address={JUDGE_NODE_IP}")
        yield address
    finally:
        # The judge node first, and only `ray start` itself: it drains its node through the head's
        # GCS, which must still run (a SIGTERM to the whole group makes each node wait 30 s for it).
        for node in reversed(nodes):
            node.terminate()
            try:
                node.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(node.pid, signal.SIGKILL)


def test_workers_run_only_on_the_nodes_with_the_judge_resource(tmp_path):
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(24)}
    with judge_cluster(tmp_path, env) as address:
        driver = subprocess.run(
            [sys.executable, "-m", "tests.judge.pinned_driver", address],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert driver.returncode == 0, driver.stderr[-3000:]
    report = json.loads(driver.stdout.strip().splitlines()[-1])
    assert report["layout"] == [3, "judge"]
    assert report["verdicts"] == ["Accepted"] * 4 and report["judged"] == 4
    [judge_node_id] = report["judge_nodes"]
    # Two workers took the two units of the judge node; the third waits for a node with the resource.
    # Which two is Ray's choice: the three ask for the units at once.
    assert len(report["started"]) == 2 and set(report["started"]) <= {0, 1, 2}
    assert report["worker_nodes"] == [judge_node_id, judge_node_id]
    assert judge_node_id != report["driver_node"]
    assert report["judge_units_free"] == 0

"""scripts/cluster-local's refusals and its pid-file guard, without starting Ray."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.ops.test_multinode_failover import CLUSTER_LOCAL


def _run(tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATA_DIR": str(tmp_path / "var")}
    return subprocess.run([str(CLUSTER_LOCAL), *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("up", "--fronts", "0"), "--fronts must be between 1 and 64"),
        (("status",), "no local cluster recorded"),
        (("stop-node",), "the second node is not running"),
    ],
)
def test_refusals_exit_1_with_one_line(tmp_path, args, message):
    done = _run(tmp_path, *args)
    assert done.returncode == 1
    assert len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith(f"cluster-local: {message}")


def test_down_leaves_alone_a_process_whose_pid_was_recycled(tmp_path):
    """A pid file naming a live process group with another start time (the pid was reused)."""
    state = tmp_path / "var" / "cluster-local"
    state.mkdir(parents=True)
    other = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        (state / "front-1.pid").write_text(f"{other.pid} 0\n")
        done = _run(tmp_path, "down")
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "cluster-local: stopped nothing (nothing was running)"
        assert other.poll() is None
        assert not (state / "front-1.pid").exists()
    finally:
        other.kill()
        other.wait()

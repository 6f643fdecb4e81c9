"""The sandbox judge's fixtures: one runner for the session, skipped with its reason when unavailable."""

from __future__ import annotations

import pytest

from judge.runner import SandboxRunner
from tests.judge.helpers import processes_of, sandbox_uid


@pytest.fixture(scope="session")
def runner():
    runner = SandboxRunner()
    if not runner.available():
        pytest.skip(runner.reason())
    yield runner
    runner.close()


@pytest.fixture
def no_leftovers(runner):
    """After the test, no process of the sandbox user that was not there before remains."""
    uid = sandbox_uid(runner)
    before = set(processes_of(uid)) if uid is not None else set()
    yield
    if uid is not None:
        left = {pid: cmd for pid, cmd in processes_of(uid).items() if pid not in before}
        assert not left, f"processes of the sandbox user outlived the run: {left}"

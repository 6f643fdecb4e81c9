"""Helpers of the sandbox judge's tests: short limits, skipping a language, the sandbox user's processes."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from judge.runner import SandboxRunner
from judge.sandbox import MiB, SandboxLimits

# Short limits where a test waits for one to be hit; the defaults elsewhere. CPU_BOUND leaves the
# wall clock far behind so that the CPU limit is the one that stops a busy program even on a busy host.
QUICK = SandboxLimits(cpu_seconds=1.0, wall_seconds=2.0)
CPU_BOUND = SandboxLimits(cpu_seconds=1.0, wall_seconds=10.0)
SMALL_FILES = SandboxLimits(file_size_bytes=1 * MiB)


def need(runner: SandboxRunner, language_id: int) -> None:
    reason = runner.reason(language_id)
    if reason is not None:
        pytest.skip(f"language {language_id} unavailable in the sandbox: {reason}")


def processes_of(uid: int) -> dict[int, str]:
    """Live processes (zombies included) whose real uid is `uid`: pid → command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
        if int(uid_line.split()[1]) == uid:
            found[int(entry.name)] = cmdline.strip()
    return found


def sandbox_uid(runner: SandboxRunner) -> int | None:
    """The uid sandboxes run as when it is not the test process's own (the server is root)."""
    return runner.sandbox.user[0] if runner.sandbox.user is not None else None


class ProcessCounter:
    """Samples how many processes the sandbox user has, in a thread, while a test runs."""

    def __init__(self, uid: int) -> None:
        self.uid = uid
        self.peak = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, len(processes_of(self.uid)))
            self.samples += 1
            self._stop.wait(0.005)

    def __enter__(self) -> ProcessCounter:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

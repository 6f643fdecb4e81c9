"""The sandbox's PID 1 (judge/supervisor.c): built once per process with the host's gcc.

The supervisor sets the resource limits right before it executes the program, reaps the
program's processes, reports exact exit status, CPU time and peak memory on a private
pipe, and kills the whole sandbox when asked (see the C file for the protocol).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path

SOURCE = Path(__file__).with_name("supervisor.c")


class SupervisorUnavailable(RuntimeError):
    pass


@dataclass(frozen=True)
class Report:
    """What the supervisor wrote: how the program ended and what it used."""

    signal: int | None
    exit_code: int | None
    cpu_seconds: float
    memory_kb: int


def parse_report(line: bytes) -> Report | str:
    """A `Report`, or the reason the program did not run (a string)."""
    fields = line.decode("ascii", "replace").split()
    if len(fields) == 2 and fields[0] == "execfail":
        return f"the sandbox could not execute the program: {os.strerror(int(fields[1]))}"
    if len(fields) != 5 or fields[0] not in ("exit", "signal") or not all(f.isdigit() for f in fields[1:]):
        return f"unreadable supervisor report {line[:200]!r}"
    value, user_us, system_us, memory_kb = (int(f) for f in fields[1:])
    return Report(
        signal=value if fields[0] == "signal" else None,
        exit_code=value if fields[0] == "exit" else None,
        cpu_seconds=(user_us + system_us) / 1e6,
        memory_kb=memory_kb,
    )


class Supervisor:
    """The compiled binary in a private directory the sandbox user may traverse, removed on close."""

    def __init__(self, gcc: str, parent: str | None = None) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="peerprep-supervisor-", dir=parent))
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.directory, True)
        self.path = self.directory / "supervisor"
        build = subprocess.run(
            [gcc, "-O2", "-Wall", "-o", str(self.path), str(SOURCE)],
            capture_output=True,
            text=True,
            timeout=120,
            env={"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"},
        )
        if build.returncode != 0:
            self.close()
            raise SupervisorUnavailable(f"building {SOURCE.name} with {gcc} failed: {build.stderr.strip()[-500:]}")
        os.chmod(self.directory, 0o711)
        os.chmod(self.path, 0o755)

    def close(self) -> None:
        self._cleanup()

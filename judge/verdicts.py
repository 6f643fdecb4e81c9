"""Verdicts in Judge0 CE's vocabulary: the status ids and names every judge reports with."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Status(IntEnum):
    IN_QUEUE = 1
    PROCESSING = 2
    ACCEPTED = 3
    WRONG_ANSWER = 4
    TIME_LIMIT_EXCEEDED = 5
    COMPILATION_ERROR = 6
    RUNTIME_ERROR_SIGSEGV = 7
    RUNTIME_ERROR_SIGXFSZ = 8
    RUNTIME_ERROR_SIGFPE = 9
    RUNTIME_ERROR_SIGABRT = 10
    RUNTIME_ERROR_NZEC = 11
    RUNTIME_ERROR_OTHER = 12
    INTERNAL_ERROR = 13
    EXEC_FORMAT_ERROR = 14
    MEMORY_LIMIT_EXCEEDED = 15
    """Not in Judge0 CE: the sandbox judge's, when a run's cgroup hit its memory limit."""

    @property
    def description(self) -> str:
        return DESCRIPTIONS[self]

    @property
    def final(self) -> bool:
        """Whether judging is over (anything but In Queue and Processing)."""
        return self not in (Status.IN_QUEUE, Status.PROCESSING)


DESCRIPTIONS = {
    Status.IN_QUEUE: "In Queue",
    Status.PROCESSING: "Processing",
    Status.ACCEPTED: "Accepted",
    Status.WRONG_ANSWER: "Wrong Answer",
    Status.TIME_LIMIT_EXCEEDED: "Time Limit Exceeded",
    Status.COMPILATION_ERROR: "Compilation Error",
    Status.RUNTIME_ERROR_SIGSEGV: "Runtime Error (SIGSEGV)",
    Status.RUNTIME_ERROR_SIGXFSZ: "Runtime Error (SIGXFSZ)",
    Status.RUNTIME_ERROR_SIGFPE: "Runtime Error (SIGFPE)",
    Status.RUNTIME_ERROR_SIGABRT: "Runtime Error (SIGABRT)",
    Status.RUNTIME_ERROR_NZEC: "Runtime Error (NZEC)",
    Status.RUNTIME_ERROR_OTHER: "Runtime Error (Other)",
    Status.INTERNAL_ERROR: "Internal Error",
    Status.EXEC_FORMAT_ERROR: "Exec Format Error",
    Status.MEMORY_LIMIT_EXCEEDED: "Memory Limit Exceeded",
}


@dataclass(frozen=True)
class Verdict:
    """The outcome of judging one submission.

    `time` is seconds of CPU for the slowest test, `memory` peak KB, `failed_test` the
    0-based index of the first failing test; `compile_output` goes to the submitter only.
    """

    status: Status
    time: float | None = None
    memory: int | None = None
    compile_output: str | None = None
    failed_test: int | None = None

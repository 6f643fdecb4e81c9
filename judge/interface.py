"""The judge as a room sees it: hand over a submission with its tests, get a verdict back
whenever it is ready; ask which languages it can judge; run a program once (the collab
page's "Run")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from judge.cases import TestCase
from judge.verdicts import Status, Verdict

LanguageSupport = Mapping[int, str | None]
"""Language id → None when the judge can run it, else why not."""


@dataclass(frozen=True)
class JudgeJob:
    submission_id: int
    question_id: int
    language_id: int
    code: str
    tests: tuple[TestCase, ...] = ()
    """The question's tests, in order; whoever dispatches the job finds them."""


@dataclass(frozen=True)
class Execution:
    """One program run on its input, as `POST /run` answers it: what it printed and how it ended.
    A compiled language that does not compile ends with the compiler's output in `stderr` and its
    exit status; `exit_code` is None when the program was killed (a limit); `status` says which."""

    stdout: str
    stderr: str
    exit_code: int | None
    status: Status


class Judge(Protocol):
    async def judge(self, job: JudgeJob) -> Verdict:
        """Judge one submission against the job's tests. May take seconds; never blocks the caller's loop."""

    async def execute(self, language_id: int, code: str, stdin: str = "") -> Execution:
        """Compile and run `code` once on `stdin`, under the same limits as judging."""

    async def language_support(self) -> LanguageSupport | None:
        """Which languages this judge can run where it runs; None when it cannot tell now
        (its backend is unreachable, no worker has started): the caller then refuses nothing."""

"""The judge as a room sees it: hand over a submission with its tests, get a verdict back
whenever it is ready; and ask which languages it can judge."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from judge.cases import TestCase
from judge.verdicts import Verdict

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


class Judge(Protocol):
    async def judge(self, job: JudgeJob) -> Verdict:
        """Judge one submission against the job's tests. May take seconds; never blocks the caller's loop."""

    async def language_support(self) -> LanguageSupport | None:
        """Which languages this judge can run where it runs; None when it cannot tell now
        (its backend is unreachable, no worker has started): the caller then refuses nothing."""

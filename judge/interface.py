"""The judge as a room sees it: hand over a submission, get a verdict back, whenever it is ready."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from judge.verdicts import Verdict


@dataclass(frozen=True)
class JudgeJob:
    submission_id: int
    question_id: int
    language_id: int
    code: str


class Judge(Protocol):
    async def judge(self, job: JudgeJob) -> Verdict:
        """Judge one submission against its question's tests. May take seconds; never blocks the caller's loop."""

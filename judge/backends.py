"""Which judge a host uses, by name (setting `JUDGE_BACKEND`)."""

from __future__ import annotations

from judge.interface import Judge, JudgeJob
from judge.verdicts import Status, Verdict


class UnavailableJudge:
    """Answers every submission with Internal Error and says why, rather than leaving it pending."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    async def judge(self, job: JudgeJob) -> Verdict:
        return Verdict(Status.INTERNAL_ERROR, compile_output=self.reason)


def build_judge(name: str) -> Judge:
    if name == "test":
        from judge.testing import DeterministicTestJudge

        return DeterministicTestJudge()
    return UnavailableJudge(f"the {name} judge is not available on this server yet")

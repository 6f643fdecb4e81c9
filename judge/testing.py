"""A deterministic judge for tests and benchmarks only: the verdict is read off the code.

It stands in for the real judges behind the same interface where a test is about the
contest, not about running code. Code containing `ACCEPT` is Accepted, `COMPILE_ERROR` a
Compilation Error, `TIME_LIMIT` a Time Limit Exceeded, `INTERNAL_ERROR` an Internal Error;
anything else is a Wrong Answer on test 0. Code containing `SLOW` is answered after
`slow_seconds`, so a test can kill a host while a verdict is on its way.
"""

from __future__ import annotations

import asyncio

from judge.interface import Execution, JudgeJob, LanguageSupport
from judge.languages import LANGUAGES
from judge.verdicts import Status, Verdict

MARKERS = (
    ("COMPILE_ERROR", Status.COMPILATION_ERROR),
    ("TIME_LIMIT", Status.TIME_LIMIT_EXCEEDED),
    ("INTERNAL_ERROR", Status.INTERNAL_ERROR),
    ("ACCEPT", Status.ACCEPTED),
)


class DeterministicTestJudge:
    def __init__(self, delay: float = 0.0, slow_seconds: float = 2.0) -> None:
        self.delay = delay
        self.slow_seconds = slow_seconds
        self.judged: list[int] = []

    async def execute(self, language_id: int, code: str, stdin: str = "") -> Execution:
        """Prints what it was given: the language, the code's size and the input's."""
        return Execution(f"test judge ran {len(code)} bytes of language {language_id} on {len(stdin)} bytes\n", "", 0,
                         Status.ACCEPTED)  # fmt: skip

    async def language_support(self) -> LanguageSupport:
        return {spec.judge0_id: None for spec in LANGUAGES}

    async def judge(self, job: JudgeJob) -> Verdict:
        delay = self.delay + (self.slow_seconds if "SLOW" in job.code else 0.0)
        if delay:
            await asyncio.sleep(delay)
        self.judged.append(job.submission_id)
        status = next((status for marker, status in MARKERS if marker in job.code), Status.WRONG_ANSWER)
        if status is Status.COMPILATION_ERROR:
            return Verdict(status, compile_output=f"test judge: submission {job.submission_id} does not compile")
        if status is Status.ACCEPTED:
            return Verdict(status, time=0.01, memory=1024)
        return Verdict(status, time=0.01, memory=1024, failed_test=0)

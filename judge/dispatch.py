"""Back-pressure in front of a judge: at most `concurrency` submissions judged at once and at
most `queue_limit` more waiting. A submission is admitted (a place reserved) before it is
stored, so the server refuses work it cannot do (the API answers 503 with Retry-After)
instead of piling it up. Work accepted earlier (re-judging after a crash) is always admitted.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable

from judge.interface import Execution, Judge, JudgeJob, LanguageSupport
from judge.timings import Durations
from judge.verdicts import Verdict


class JudgeBusy(Exception):
    """Every judging slot and every queue place is taken."""


class JudgeQueue:
    def __init__(
        self, engine: Judge, concurrency: int, queue_limit: int, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        if concurrency < 1 or queue_limit < 0:
            raise ValueError("concurrency must be ≥ 1 and queue_limit ≥ 0")
        self.engine = engine
        self.concurrency = concurrency
        self.queue_limit = queue_limit
        self._slots = asyncio.Semaphore(concurrency)
        self._monotonic = monotonic
        self.admitted = 0
        """Submissions judging or waiting to, each holding a place from `admit`."""
        self.judging = 0
        self.rejected = 0
        self.verdicts: Counter[str] = Counter()
        self.verdict_times = Durations()
        """From `judge` being called (the wait for a slot included) to the verdict."""

    def admit(self, force: bool = False) -> None:
        """Reserve a place for one submission, or raise JudgeBusy (never when `force`)."""
        if not force and self.admitted >= self.concurrency + self.queue_limit:
            self.rejected += 1
            raise JudgeBusy()
        self.admitted += 1

    def release(self) -> None:
        """Give back a place that will not be used (the submission could not be stored)."""
        self.admitted -= 1

    async def judge(self, job: JudgeJob) -> Verdict:
        """Judge an admitted submission; its place is given back when this returns."""
        started = self._monotonic()
        try:
            async with self._slots:
                self.judging += 1
                try:
                    verdict = await self.engine.judge(job)
                finally:
                    self.judging -= 1
        finally:
            self.admitted -= 1
        self.verdict_times.observe(self._monotonic() - started)
        self.verdicts[verdict.status.description] += 1
        return verdict

    async def language_support(self) -> LanguageSupport | None:
        return await self.engine.language_support()

    async def execute(self, language_id: int, code: str, stdin: str = "") -> Execution:
        return await self.engine.execute(language_id, code, stdin)

    def stats(self) -> dict:
        """Plain numbers for the host's stats: places taken, judging now, refusals, verdicts and their times."""
        return {
            "concurrency": self.concurrency,
            "queue_limit": self.queue_limit,
            "judging": self.judging,
            "waiting": self.admitted - self.judging,
            "rejected": self.rejected,
            "verdicts": dict(self.verdicts),
            "verdict_seconds": self.verdict_times.snapshot(),
        }

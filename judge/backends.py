"""Which judge engine the judge workers run, by name (setting `JUDGE_BACKEND`), and the bounded
queue a host's rooms put in front of them; both behind the room's `Judge` interface."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable

from judge.cases import TestCase
from judge.dispatch import JudgeQueue
from judge.interface import Judge, JudgeJob
from judge.verdicts import Status, Verdict

TestsOf = Callable[[int], Awaitable[list[TestCase]]]


class UnavailableJudge:
    """Answers every submission with Internal Error and says why, rather than leaving it pending."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    async def judge(self, job: JudgeJob) -> Verdict:
        return Verdict(Status.INTERNAL_ERROR, compile_output=self.reason)


class SandboxJudge:
    """The local bubblewrap sandbox: a question's tests come from the database, the runner is
    built once per process on first use (it compiles its supervisor)."""

    def __init__(self, tests_of: TestsOf) -> None:
        self.tests_of = tests_of
        self._runner = None
        self._building = asyncio.Lock()

    async def runner(self):
        async with self._building:
            if self._runner is None:
                from judge.runner import SandboxRunner

                self._runner = await SandboxRunner.create()
        return self._runner

    async def judge(self, job: JudgeJob) -> Verdict:
        tests = await self.tests_of(job.question_id)
        if not tests:
            return Verdict(Status.INTERNAL_ERROR, compile_output="this problem has no tests to judge against")
        runner = await self.runner()
        try:
            return await runner.judge(job.language_id, job.code, tests)
        except ValueError as error:
            return Verdict(Status.INTERNAL_ERROR, compile_output=str(error))


def build_engine(
    name: str,
    tests_of: TestsOf,
    judge0_url: str | None = None,
    judge0_token: str | None = None,
    judge0_callback_url: str | None = None,
) -> Judge:
    """The named engine; `judge0_callback_url` (a prefix) turns on Judge0's callbacks."""
    if name == "judge0":
        if not judge0_url:
            return UnavailableJudge("JUDGE_BACKEND=judge0 needs JUDGE0_URL")
        from judge.judge0 import Judge0Judge, Judge0Settings

        settings = Judge0Settings(base_url=judge0_url, auth_token=judge0_token, callback_url=judge0_callback_url)
        return Judge0Judge(tests_of, settings)
    if name == "test":
        from judge.testing import DeterministicTestJudge

        return DeterministicTestJudge()
    if name == "sandbox":
        return SandboxJudge(tests_of)
    return UnavailableJudge(f"the {name} judge is not available on this server")


def build_judge(engine: Judge, concurrency: int | None = None, queue_limit: int = 100) -> JudgeQueue:
    """The judge a host's rooms use: `engine` (the judge workers) behind a bounded queue;
    `concurrency` defaults to this node's CPUs."""
    return JudgeQueue(engine, concurrency or os.cpu_count() or 1, queue_limit)


def unavailable_reason(backend: str, language_id: int) -> str | None:
    """Why the judge in use cannot run this language here, or None when it can.

    Cheap enough for a request: it looks for programs, it does not start a sandbox.
    """
    if backend in ("test", "judge0"):
        return None  # judge0: the route asks Judge0 itself (`judge0_languages`)
    if backend != "sandbox":
        return f"the {backend} judge is not available on this server"
    import shutil

    from judge.toolchains import TOOLCHAINS, resolve

    if shutil.which("bwrap") is None:
        return "the sandbox needs bubblewrap, which is not installed"
    toolchain = TOOLCHAINS.get(language_id)
    if toolchain is None:
        return f"language {language_id} is not supported"
    found = resolve(toolchain)
    return found if isinstance(found, str) else None

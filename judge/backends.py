"""Which judge engine the judge workers run (setting `JUDGE_BACKEND`), and the bounded queue a
host's rooms put in front of them; both behind the room's `Judge` interface."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from judge.dispatch import JudgeQueue
from judge.interface import Execution, Judge, JudgeJob, LanguageSupport
from judge.languages import LANGUAGES
from judge.toolchains import LanguageLimits
from judge.verdicts import Status, Verdict

CALLBACK_PATH = "/judge0/callbacks"
"""Where the front takes Judge0's callbacks: `{JUDGE0_CALLBACK_URL}/judge0/callbacks/{worker}/{secret}`."""


@dataclass(frozen=True)
class SandboxConfig:
    """The local sandbox's isolation and limits: `cgroups` mode (`JUDGE_CGROUPS`), the delegated
    cgroup v2 directory (`JUDGE_CGROUP`), and the limits per Judge0 language id (a language
    missing from `limits` gets `default`)."""

    cgroups: str = "auto"
    cgroup_path: str | None = None
    default: LanguageLimits = field(default_factory=LanguageLimits)
    limits: Mapping[int, LanguageLimits] = field(default_factory=dict)


@dataclass(frozen=True)
class EngineConfig:
    """What a judge worker runs: the backend's name and, for Judge0, where it is."""

    backend: str = "sandbox"
    judge0_url: str | None = None
    judge0_auth_token: str | None = field(default=None, repr=False)
    judge0_callback_url: str | None = None
    """This server as Judge0 reaches it (`http(s)://host:port`): Judge0 then PUTs its results back."""
    sandbox: SandboxConfig = field(default_factory=SandboxConfig)

    def callback_prefix(self, worker: int) -> str | None:
        """The callback URL prefix of judge worker `worker`, or None without callbacks."""
        if not self.judge0_callback_url:
            return None
        return f"{self.judge0_callback_url.rstrip('/')}{CALLBACK_PATH}/{worker}"


class UnavailableJudge:
    """Answers every submission with Internal Error and says why, rather than leaving it pending."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    async def judge(self, job: JudgeJob) -> Verdict:
        return Verdict(Status.INTERNAL_ERROR, compile_output=self.reason)

    async def execute(self, language_id: int, code: str, stdin: str = "") -> Execution:
        return Execution("", self.reason, None, Status.INTERNAL_ERROR)

    async def language_support(self) -> LanguageSupport:
        return {spec.judge0_id: self.reason for spec in LANGUAGES}


class SandboxJudge:
    """The local bubblewrap sandbox; the runner is built once per process on first use (it
    compiles its supervisor)."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self._runner = None
        self._building = asyncio.Lock()

    async def runner(self):
        async with self._building:
            if self._runner is None:
                from judge.runner import SandboxRunner

                config = self.config
                self._runner = await SandboxRunner.create(
                    run_limits=config.default.run,
                    compile_limits=config.default.compile,
                    language_limits=config.limits,
                    cgroups=config.cgroups,
                    cgroup_path=config.cgroup_path,
                )
        return self._runner

    async def isolation(self) -> dict:
        """How the sandbox isolates runs here: its cgroups, or why it has none (for /ready)."""
        runner = await self.runner()
        sandbox = runner.sandbox
        if sandbox.cgroups is not None:
            return {"cgroups": sandbox.cgroups.version}
        return {"cgroups": None, "without_cgroups": sandbox.cgroup_reason or sandbox.reason}

    async def judge(self, job: JudgeJob) -> Verdict:
        if not job.tests:
            return Verdict(Status.INTERNAL_ERROR, compile_output="this problem has no tests to judge against")
        runner = await self.runner()
        try:
            return await runner.judge(job.language_id, job.code, job.tests)
        except ValueError as error:
            return Verdict(Status.INTERNAL_ERROR, compile_output=str(error))

    async def execute(self, language_id: int, code: str, stdin: str = "") -> Execution:
        runner = await self.runner()
        try:
            return await runner.execute(language_id, code, stdin)
        except ValueError as error:
            return Execution("", str(error), None, Status.INTERNAL_ERROR)

    async def language_support(self) -> LanguageSupport:
        """What this machine's sandbox can run: bubblewrap, and each language's toolchain."""
        runner = await self.runner()
        return {spec.judge0_id: runner.reason(spec.judge0_id) for spec in LANGUAGES}


def build_engine(config: EngineConfig, worker: int = 0) -> Judge:
    """The engine judge worker `worker` runs."""
    if config.backend == "judge0":
        if not config.judge0_url:
            return UnavailableJudge("JUDGE_BACKEND=judge0 needs JUDGE0_URL")
        from judge.judge0 import Judge0Judge, Judge0Settings

        settings = Judge0Settings(
            base_url=config.judge0_url,
            auth_token=config.judge0_auth_token,
            callback_url=config.callback_prefix(worker),
        )
        return Judge0Judge(settings)
    if config.backend == "test":
        from judge.testing import DeterministicTestJudge

        return DeterministicTestJudge()
    if config.backend == "sandbox":
        return SandboxJudge(config.sandbox)
    return UnavailableJudge(f"the {config.backend} judge is not available on this server")


def build_judge(engine: Judge, concurrency: int | None = None, queue_limit: int = 100) -> JudgeQueue:
    """The judge a host's rooms use: `engine` (the judge workers) behind a bounded queue;
    `concurrency` defaults to this node's CPUs."""
    return JudgeQueue(engine, concurrency or os.cpu_count() or 1, queue_limit)

"""The local sandbox judge: compile a submission once, run it on every test, answer a Verdict.

    runner = SandboxRunner()                       # builds the supervisor, checks bwrap (blocking, once)
    if runner.available(71): verdict = await runner.judge(71, source, [TestCase("1 2\\n", "3\\n")])

Tests run in order and judging stops at the first that fails (`failed_test` is its 0-based
index). `time` is the most CPU seconds any test used, `memory` the highest peak resident KB.
A verdict never carries test data or program output: only the compiler's output (truncated)
for the submitter, or the reason for an Internal Error.

Status of one run, first match wins: the sandbox failed → Internal Error; wall clock limit, or
the run's cgroup over its CPU time → Time Limit Exceeded; the run's cgroup at its memory limit
(the kernel's OOM killer ended a process of it) → Memory Limit Exceeded; output cap → Runtime
Error (SIGXFSZ), as in Judge0, whose output is a file under its file-size limit; SIGXCPU or
more CPU than allowed → Time Limit Exceeded; SIGSEGV, SIGXFSZ, SIGFPE, SIGABRT → their Runtime
Errors, any other signal → Runtime Error (Other); a non-zero exit → Runtime Error (NZEC); else
stdout against the expected output → Accepted or Wrong Answer. Compilation that fails, times
out or floods its output → Compilation Error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import weakref
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path

from judge.cases import TestCase
from judge.compare import outputs_match
from judge.interface import Execution
from judge.sandbox import COMPILE_LIMITS, RUN_LIMITS, RunResult, Sandbox, SandboxLimits, Workspace
from judge.toolchains import TOOLCHAINS, LanguageLimits, Step, Tools, resolve
from judge.verdicts import Status, Verdict

log = logging.getLogger("peerprep.judge.runner")

SIGNAL_STATUS = {
    signal.SIGSEGV: Status.RUNTIME_ERROR_SIGSEGV,
    signal.SIGXFSZ: Status.RUNTIME_ERROR_SIGXFSZ,
    signal.SIGFPE: Status.RUNTIME_ERROR_SIGFPE,
    signal.SIGABRT: Status.RUNTIME_ERROR_SIGABRT,
}
SANDBOX_FAILED = "the sandbox failed to run this submission; the server log has the details"


def run_status(result: RunResult, limits: SandboxLimits, expected_output: str) -> Status:
    """The Judge0 status of one test run."""
    if result.error is not None:
        return Status.INTERNAL_ERROR
    if result.wall_timeout or result.cpu_timeout:
        return Status.TIME_LIMIT_EXCEEDED
    if result.memory_exceeded:
        return Status.MEMORY_LIMIT_EXCEEDED
    if result.output_exceeded:
        return Status.RUNTIME_ERROR_SIGXFSZ
    if result.signal == signal.SIGXCPU or (result.cpu_seconds or 0.0) > limits.cpu_seconds:
        return Status.TIME_LIMIT_EXCEEDED
    if result.signal is not None:
        return SIGNAL_STATUS.get(result.signal, Status.RUNTIME_ERROR_OTHER)
    if result.exit_code:
        return Status.RUNTIME_ERROR_NZEC
    return Status.ACCEPTED if outputs_match(result.stdout, expected_output) else Status.WRONG_ANSWER


class SandboxRunner:
    """Judges submissions in bubblewrap sandboxes, at most `max_parallel` processes at a time.

    A language's limits are `language_limits[id]`, else `compile_limits` and `run_limits`;
    `cgroups` and `cgroup_path` say where the runs' cgroups go (judge/cgroups.py).
    """

    def __init__(
        self,
        *,
        run_limits: SandboxLimits = RUN_LIMITS,
        compile_limits: SandboxLimits = COMPILE_LIMITS,
        language_limits: Mapping[int, LanguageLimits] | None = None,
        max_parallel: int | None = None,
        compile_output_limit: int = 8192,
        work_root: str | None = None,
        cgroups: str = "auto",
        cgroup_path: str | None = None,
        sandbox: Sandbox | None = None,
    ) -> None:
        self.run_limits = run_limits
        self.compile_limits = compile_limits
        self.language_limits = dict(language_limits or {})
        self.compile_output_limit = compile_output_limit
        if sandbox is None:
            sandbox = Sandbox(work_root, cgroups=cgroups, cgroup_path=cgroup_path)
        self.sandbox = sandbox
        self.max_parallel = max_parallel or os.cpu_count() or 1
        self._slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )
        self._tools: dict[int, Tools | str] = {language: resolve(chain) for language, chain in TOOLCHAINS.items()}

    @classmethod
    async def create(cls, **options) -> SandboxRunner:
        """A runner built in a worker thread (building the supervisor and checking bwrap take ~0.1 s)."""
        return await asyncio.to_thread(cls, **options)

    def reason(self, language_id: int | None = None) -> str | None:
        """Why the sandbox (or that language in it) cannot judge; None when it can."""
        if self.sandbox.reason is not None:
            return self.sandbox.reason
        if language_id is None:
            return None
        tools = self._tools.get(language_id)
        if tools is None:
            return f"language {language_id} is not supported by the sandbox judge"
        return tools if isinstance(tools, str) else None

    def available(self, language_id: int | None = None) -> bool:
        return self.reason(language_id) is None

    def languages(self) -> list[int]:
        """The Judge0 ids this runner can judge here."""
        return [language for language in TOOLCHAINS if self.available(language)]

    def close(self) -> None:
        self.sandbox.close()

    def limits(self, language_id: int) -> LanguageLimits:
        """The compile and run limits of that language."""
        return self.language_limits.get(language_id, LanguageLimits(self.compile_limits, self.run_limits))

    async def judge(
        self,
        language_id: int,
        source: str,
        tests: Sequence[TestCase],
        limits: SandboxLimits | None = None,
    ) -> Verdict:
        """Compile `source` once and run it on `tests` in order; the Verdict of the submission."""
        if language_id not in TOOLCHAINS:
            raise ValueError(f"unknown language id {language_id}")
        reason = self.reason(language_id)
        if reason is not None:
            return Verdict(Status.INTERNAL_ERROR, compile_output=reason)
        try:
            return await self._judge(language_id, source, tests, limits)
        except OSError:  # the host side failed (no space for the workspace, no more processes…)
            log.exception("judging a language %s submission failed", language_id)
            return Verdict(Status.INTERNAL_ERROR, compile_output=SANDBOX_FAILED)

    async def execute(self, language_id: int, source: str, stdin: str = "") -> Execution:
        """Compile `source` and run it once on `stdin` (the collab page's Run), under the judging
        limits; its output decoded and capped as the sandbox caps it."""
        if language_id not in TOOLCHAINS:
            raise ValueError(f"unknown language id {language_id}")
        reason = self.reason(language_id)
        if reason is not None:
            return Execution("", reason, None, Status.INTERNAL_ERROR)
        try:
            return await self._execute(language_id, source, stdin)
        except OSError:
            log.exception("running a language %s program failed", language_id)
            return Execution("", SANDBOX_FAILED, None, Status.INTERNAL_ERROR)

    @contextlib.asynccontextmanager
    async def _compiled(
        self, language_id: int, source: str, run_limits: SandboxLimits | None = None
    ) -> AsyncIterator[tuple[Path, str | Verdict | None, Step]]:
        """`source` written to a fresh workspace and compiled: the box, the compilation's outcome
        (see `_compile`) and the step that runs the program (`run_limits`, else the language's)."""
        toolchain, tools = TOOLCHAINS[language_id], self._tools[language_id]
        assert not isinstance(tools, str)
        limits = self.limits(language_id)
        async with self._workspace() as workspace:
            await asyncio.to_thread(workspace.write, toolchain.source_file, source)
            compiled = await self._compile(toolchain.compile(tools, limits.compile), workspace.box)
            yield workspace.box, compiled, toolchain.run(tools, run_limits or limits.run)

    async def _execute(self, language_id: int, source: str, stdin: str) -> Execution:
        async with self._compiled(language_id, source) as (box, compiled, step):
            if isinstance(compiled, Verdict):
                return Execution("", compiled.compile_output or "", 1, compiled.status)
            result = await self._run(step, box, stdin=stdin.encode("utf-8"))
        stdout = result.stdout.decode("utf-8", "replace")
        status = run_status(result, step.limits, stdout)  # its own output: Accepted when it ended well
        if status is Status.INTERNAL_ERROR:
            return Execution("", SANDBOX_FAILED, None, status)
        ended = result.signal is None and not result.wall_timeout
        return Execution(stdout, result.stderr.decode("utf-8", "replace"), result.exit_code if ended else None, status)

    async def _judge(
        self, language_id: int, source: str, tests: Sequence[TestCase], limits: SandboxLimits | None
    ) -> Verdict:
        async with self._compiled(language_id, source, limits) as (box, compiled, step):
            if isinstance(compiled, Verdict):
                return compiled
            slowest, peak = 0.0, 0
            for index, case in enumerate(tests):
                result = await self._run(step, box, stdin=case.input.encode("utf-8"))
                slowest = max(slowest, result.cpu_seconds or 0.0)
                peak = max(peak, result.memory_kb or 0)
                status = run_status(result, step.limits, case.expected_output)
                if status is Status.INTERNAL_ERROR:
                    return Verdict(status, compile_output=SANDBOX_FAILED, failed_test=index)
                if status is not Status.ACCEPTED:
                    return Verdict(status, round(slowest, 3), peak or None, compiled, index)
            return Verdict(Status.ACCEPTED, round(slowest, 3), peak or None, compiled)

    async def _compile(self, step: Step, box: Path) -> str | Verdict | None:
        """The compiler's output (None if silent) when it succeeded, else the failing Verdict."""
        result = await self._run(step, box, writable=True)
        if result.error is not None:
            return Verdict(Status.INTERNAL_ERROR, compile_output=SANDBOX_FAILED)
        output = self._truncate((result.stdout + result.stderr).decode("utf-8", "replace"))
        if result.wall_timeout or result.signal == signal.SIGXCPU:
            problem = f"compilation exceeded its time limit ({step.limits.cpu_seconds:g} s of CPU)"
        elif result.output_exceeded:
            problem = "the compiler's output exceeded its limit"
        elif result.signal is not None:
            problem = f"the compiler was killed by signal {result.signal} (a resource limit?)"
        elif result.exit_code:
            return Verdict(Status.COMPILATION_ERROR, compile_output=output or f"compiler status {result.exit_code}")
        else:
            return output or None
        return Verdict(Status.COMPILATION_ERROR, compile_output=f"{output.rstrip()}\n{problem}".lstrip())

    def _truncate(self, text: str) -> str:
        if len(text) <= self.compile_output_limit:
            return text
        return text[: self.compile_output_limit] + "\n[compiler output truncated]\n"

    async def _run(self, step: Step, box: Path, *, stdin: bytes = b"", writable: bool = False) -> RunResult:
        loop = asyncio.get_running_loop()
        slots = self._slots.get(loop)
        if slots is None:
            slots = self._slots[loop] = asyncio.Semaphore(self.max_parallel)
        async with slots:
            return await self.sandbox.run_async(
                step.argv,
                box=box,
                limits=step.limits,
                writable_box=writable,
                stdin=stdin,
                env=step.env,
                read_only=step.read_only,
                cwd="/box" if writable else "/work",
            )

    @contextlib.asynccontextmanager
    async def _workspace(self) -> AsyncIterator[Workspace]:
        manager = self.sandbox.workspace()
        workspace = await asyncio.to_thread(manager.__enter__)
        try:
            yield workspace
        finally:
            await asyncio.to_thread(manager.__exit__, None, None, None)

"""Judge workers on Ray: the processes that run the judge engine, and a room host's way to them.

The only module of `judge/` that knows Ray. Each room host's `JudgeQueue` (judge/dispatch.py)
is the dispatcher: it bounds how many of its submissions are judged at once and how many
wait (a full queue is a 503), and hands each job to `JudgeWorkers`, which sends it to the
least busy of the cluster's judge workers and returns the verdict; the room turns it into an
`ApplyVerdict` message to itself.

Workers are named, detached Ray actors (`judge-worker-{i}` in the runtime's namespace) shared
by every host, restarted by Ray after their process dies (`max_restarts=-1`); the jobs they
were judging are sent again to the restarted worker up to `retries` times (Ray's
`max_task_retries`), then answered Internal Error. A job that gets no answer within
`timeout` seconds (no worker can be placed, say) is answered Internal Error too. A room
host that dies loses its queue; the restarted host wakes its rooms and each hands its
PENDING submissions to the judge again, and a verdict applied twice changes nothing.

Pinning: with `resource` set (setting `JUDGE_RAY_RESOURCE`, e.g. `judge`), each worker needs
one unit of that custom Ray resource, so workers run only on nodes started with it
(`ray start --resources '{"judge": 2}'`): `workers` of them, else one per unit in the cluster
at start. Workers beyond the units wait for a node with the resource (an autoscaler adds one
for them); jobs go to workers that have started. When no node has the resource, a joined
cluster waits for one likewise (with a warning), but Ray embedded in the front, where no
node can ever join, runs the workers unpinned (with a warning).

What a worker can judge is its own report (`language_support`: bubblewrap and the toolchains
of its node, or what its Judge0 offers); rooms and the front ask the workers, never look at
their own machine.

Judge0 callbacks: worker `i`'s engine asks Judge0 to PUT results to
`{JUDGE0_CALLBACK_URL}/judge0/callbacks/{i}/{secret}`; the front's route finds worker `i` by
name and hands it the body (`JudgeWorker.judge0_callback`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import gc
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import ray
from ray.exceptions import RayError

from judge.backends import EngineConfig, build_engine
from judge.interface import Execution, JudgeJob, LanguageSupport
from judge.verdicts import Status, Verdict

log = logging.getLogger("peerprep.judge.workers")

@dataclass(frozen=True)
class WorkerPoolConfig:
    """Where the workers live and what they run (`engine`: judge/backends.py)."""

    namespace: str = "peerprep"
    prefix: str = ""
    engine: EngineConfig = field(default_factory=EngineConfig)
    workers: int | None = None
    resource: str | None = None
    embedded: bool = True
    """Ray runs inside the front (no other node can join): without the resource, run unpinned."""
    retries: int = 2
    timeout: float = 300.0
    max_concurrency: int = 1000

    def __post_init__(self) -> None:
        if self.workers is not None and self.workers < 1:
            raise ValueError("judge workers must be ≥ 1")
        if self.retries < 0 or not self.timeout > 0:
            raise ValueError("judge worker retries must be ≥ 0 and the timeout > 0")

    def worker_name(self, index: int) -> str:
        return f"{self.prefix}judge-worker-{index}"


@dataclass(frozen=True)
class PoolLayout:
    """How many workers, and the resource each needs (None: none, they run anywhere)."""

    workers: int
    resource: str | None


def pool_layout(config: WorkerPoolConfig, cluster_resources: Mapping[str, float]) -> PoolLayout:
    """How many workers, pinned or not, given the cluster's resources now (see the module docstring)."""
    if not config.resource:
        return PoolLayout(config.workers or 1, None)
    units = int(cluster_resources.get(config.resource, 0))
    if units < 1 and config.embedded:
        log.warning(
            "JUDGE_RAY_RESOURCE=%s, but no node of this embedded Ray has it: judge workers run unpinned",
            config.resource,
        )
        return PoolLayout(config.workers or 1, None)
    if units < 1:
        log.warning(
            "no node of the Ray cluster has the %r resource yet: judging waits for one (JUDGE_TIMEOUT_SECONDS)",
            config.resource,
        )
    elif config.workers and config.workers > units:
        log.info(
            "%d judge workers for %d units of %r: the others wait for nodes", config.workers, units, config.resource
        )
    return PoolLayout(config.workers or max(units, 1), config.resource)


def worker_options(config: WorkerPoolConfig, index: int, resource: str | None) -> dict[str, Any]:
    """The Ray actor options of worker `index`."""
    options: dict[str, Any] = dict(
        name=config.worker_name(index),
        namespace=config.namespace,
        lifetime="detached",
        get_if_exists=True,
        max_restarts=-1,
        max_task_retries=config.retries,
        num_cpus=0,
        max_concurrency=config.max_concurrency,
    )
    if resource:
        options["resources"] = {resource: 1}
    return options


class JudgeWorker:
    """One judge worker process: the configured engine, judging many submissions at once."""

    def __init__(self, config: WorkerPoolConfig, index: int) -> None:
        self.index = index
        self.engine = build_engine(config.engine, index)
        self.judging = 0
        self.judged = 0
        gc.collect()
        gc.freeze()  # as in the front and the hosts: full collections skip the heap of the imports

    async def judge(self, job: JudgeJob) -> Verdict:
        self.judging += 1
        try:
            return await self.engine.judge(job)
        finally:
            self.judging -= 1
            self.judged += 1

    async def language_support(self) -> LanguageSupport | None:
        return await self.engine.language_support()

    async def isolation(self) -> dict[str, Any] | None:
        """The sandbox's isolation here (its cgroups, or why it has none); None for other engines."""
        probe = getattr(self.engine, "isolation", None)
        return await probe() if probe is not None else None

    async def execute(self, language_id: int, code: str, stdin: str) -> Execution:
        self.judging += 1
        try:
            return await self.engine.execute(language_id, code, stdin)
        finally:
            self.judging -= 1

    async def judge0_callback(self, secret: str, body: bytes) -> tuple[bool, str | None]:
        """A Judge0 result PUT to this worker's callback URL: (whether a judging of this worker
        took it, why the body is not a Judge0 result or None)."""
        deliver = getattr(self.engine, "deliver_callback", None)
        if deliver is None:
            return False, None
        try:
            return deliver(secret, body), None
        except ValueError as error:
            return False, str(error)

    async def stats(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "pid": os.getpid(),
            "node_id": ray.get_runtime_context().get_node_id(),
            "judging": self.judging,
            "judged": self.judged,
        }


# No task events: Ray's per-call records (for a state API this server does not use) would
# cost the GCS memory for every submission judged.
RemoteJudgeWorker = ray.remote(enable_task_events=False)(JudgeWorker)


class CallbackRefused(Exception):
    """No judging of that worker waits for this Judge0 callback (unknown secret or worker, or done)."""


async def deliver_judge0_callback(config: WorkerPoolConfig, worker: int, secret: str, body: bytes) -> None:
    """Hand a Judge0 callback to judge worker `worker`, wherever it runs.

    Raises CallbackRefused, ValueError (the body is not a Judge0 result), or RayError when
    the worker cannot be asked; the caller bounds the wait.
    """
    try:
        handle = ray.get_actor(config.worker_name(worker), namespace=config.namespace)
    except ValueError:
        raise CallbackRefused(f"there is no judge worker {worker}") from None
    delivered, problem = await handle.judge0_callback.remote(secret, body)
    if problem is not None:
        raise ValueError(problem)
    if not delivered:
        raise CallbackRefused("no judging waits for this callback")


def merge_support(reports: list[LanguageSupport]) -> LanguageSupport | None:
    """One report from several workers': a language counts when any of them can run it."""
    if not reports:
        return None
    languages = {language for report in reports for language in report}
    return {
        language: None
        if any(report.get(language, "") is None for report in reports)
        else next(reason for report in reports if (reason := report.get(language)))
        for language in languages
    }


class JudgeWorkers:
    """`judge.interface.Judge` for a room host: each job goes to the least busy judge worker
    of those that have started (a worker waiting for a node gets none)."""

    def __init__(self, config: WorkerPoolConfig, support_ttl: float = 30.0, ask_timeout: float = 5.0) -> None:
        self.config = config
        self.support_ttl = support_ttl
        self.ask_timeout = ask_timeout
        self.layout: PoolLayout | None = None
        self._handles: list[Any] = []
        self._busy: list[int] = []
        self._first_answers: list[concurrent.futures.Future] = []
        self._support: tuple[float, LanguageSupport] | None = None
        self._awaiting_start = 0

    def start(self) -> None:
        """Find the workers, creating those that do not run yet (once; they start in the background)."""
        if self._handles:
            return
        self.layout = pool_layout(self.config, ray.cluster_resources())
        self._handles = [
            RemoteJudgeWorker.options(**worker_options(self.config, index, self.layout.resource)).remote(
                self.config, index
            )
            for index in range(self.layout.workers)
        ]
        self._busy = [0] * len(self._handles)
        self._first_answers = [handle.stats.remote().future() for handle in self._handles]

    def started(self) -> list[int]:
        """The workers that have answered once: they have a node and run."""
        return [
            index
            for index, answer in enumerate(self._first_answers)
            if answer.done() and not answer.cancelled() and answer.exception() is None
        ]

    async def _first_started(self) -> None:
        """Return once a worker has answered (or failed to) for the first time."""
        waits = [asyncio.wrap_future(answer) for answer in self._first_answers]
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)

    async def _pick(self) -> int:
        started = self.started()
        if not started or self._awaiting_start:
            # Just after start-up: wait for the first worker to run, behind the jobs already
            # waiting for it, so that jobs leave in the order they came.
            self._awaiting_start += 1
            try:
                await self._first_started()
            finally:
                self._awaiting_start -= 1
            started = self.started() or list(range(len(self._handles)))
        return min(started, key=self._busy.__getitem__)

    async def language_support(self, wait: float = 0.0) -> LanguageSupport | None:
        """What the started workers report, merged (a language counts when any of them runs it)
        and kept for `support_ttl` seconds. None when no worker has started within `wait`
        seconds, none answers within `ask_timeout`, or none can tell."""
        now = time.monotonic()
        if self._support is not None and self._support[0] > now:
            return self._support[1]
        self.start()
        if not self.started() and wait > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._first_started()
        started = self.started()
        if not started:
            return None
        try:
            async with asyncio.timeout(self.ask_timeout):
                reports = await asyncio.gather(*(self._handles[index].language_support.remote() for index in started))
        except (TimeoutError, RayError) as error:
            log.warning("the judge workers' languages could not be read: %s", type(error).__name__)
            return None
        merged = merge_support([report for report in reports if report is not None])
        if merged is not None:
            self._support = (now + self.support_ttl, merged)
        return merged

    async def _call(self, method: str, *arguments: Any) -> tuple[Any, str | None]:
        """`method` of the least busy started worker: (its answer, None), or (None, why not)."""
        self.start()
        index = None
        try:
            async with asyncio.timeout(self.config.timeout):
                index = await self._pick()
                self._busy[index] += 1
                return await getattr(self._handles[index], method).remote(*arguments), None
        except TimeoutError:
            return None, f"no judge worker answered within {self.config.timeout:g} s"
        except RayError as error:
            return None, f"the judge worker failed ({type(error).__name__})"
        finally:
            if index is not None:
                self._busy[index] -= 1

    async def execute(self, language_id: int, code: str, stdin: str = "") -> Execution:
        """Run a program once on the least busy worker; Internal Error when none answers in time."""
        execution, reason = await self._call("execute", language_id, code, stdin)
        return execution if reason is None else Execution("", reason, None, Status.INTERNAL_ERROR)

    async def judge(self, job: JudgeJob) -> Verdict:
        verdict, reason = await self._call("judge", job)
        if reason is None:
            return verdict
        log.error("submission %s: %s", job.submission_id, reason)
        return Verdict(Status.INTERNAL_ERROR, compile_output=reason)

    async def isolation(self) -> list[dict[str, Any]]:
        """What each started worker's sandbox reports of its isolation (workers of other engines report nothing)."""
        self.start()
        reports = await asyncio.gather(*(self._handles[index].isolation.remote() for index in self.started()))
        return [report for report in reports if report is not None]

    async def stats(self) -> list[dict[str, Any]]:
        """The stats (index, pid, node, judging, judged) of each worker that has started."""
        self.start()
        return list(await asyncio.gather(*(self._handles[index].stats.remote() for index in self.started())))

"""The front's way to the judge workers: which languages they can run (what they report of
their own machines, bubblewrap and toolchains or their Judge0, never what this front's machine
has), and running a program once for `POST /run`."""

from __future__ import annotations

from actors.kinds import judge_workers
from api.core.actors import actor_runtime
from api.core.services import Services
from judge.interface import LanguageSupport
from judge.ray_workers import JudgeWorkers


def workers_of(svc: Services) -> JudgeWorkers:
    """This front's JudgeWorkers (made on first use); 503 without an actor runtime."""
    if svc.judge_workers is None:
        config = actor_runtime(svc).config
        svc.judge_workers = JudgeWorkers(judge_workers(config.factory_config, config))
    return svc.judge_workers


async def language_support(svc: Services) -> LanguageSupport | None:
    """The workers' report (kept a while by `JudgeWorkers`); None when no worker answers within
    the actor call timeout, or this front has no actor runtime."""
    if svc.actors is None:
        return None
    return await workers_of(svc).language_support(wait=svc.settings.actor_call_timeout_seconds)

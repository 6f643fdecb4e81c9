"""Which languages the judge can run: what the judge workers report of their own machines
(bubblewrap and toolchains, or their Judge0), never what this front's machine has."""

from __future__ import annotations

from actors.kinds import judge_workers
from api.core.services import Services
from judge.interface import LanguageSupport
from judge.ray_workers import JudgeWorkers


async def language_support(svc: Services) -> LanguageSupport | None:
    """The workers' report (kept a while by `JudgeWorkers`); None when no worker answers within
    the actor call timeout, or this front has no actor runtime."""
    if svc.actors is None:
        return None
    if svc.judge_workers is None:
        config = svc.actors.config
        svc.judge_workers = JudgeWorkers(judge_workers(config.factory_config, config))
    return await svc.judge_workers.language_support(wait=svc.settings.actor_call_timeout_seconds)

"""The actor kinds this server hosts, by the prefix of their ids (`probe:…`, `room:…`, `pool:…`, `collab:…`).

This is the wiring between the actors and the world: each host process builds its stores
(actors/stores/) and its judge here once and hands them to the actors it creates. The judge
is the host's bounded queue in front of the cluster's judge workers (judge/ray_workers.py).
`KindsConfig` is what crosses into the hosts: built from the settings by the front
(`api.settings.kinds_config`), carried by `RuntimeConfig.factory_config`.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass, replace

from actors.collab.session import CollabSession
from actors.contest.room import ContestRoom
from actors.contest.rules import ContestRules
from actors.context import ActorContext
from actors.diagnostics import Probe
from actors.host import ActorFactory, SharingFactory
from actors.hosting.config import RuntimeConfig
from actors.matching.pool import MatchPool
from actors.stores.collab import SqlCollabStore
from actors.stores.contest import SqlRoomStore
from actors.stores.matching import SqlMatchStore
from judge.backends import build_judge
from judge.ray_workers import JudgeWorkers, WorkerPoolConfig
from persistence.database import Transactions, create_engine, session_factory


@dataclass(frozen=True)
class JudgingConfig:
    workers: WorkerPoolConfig
    """The cluster's judge workers and the engine they run (its namespace and prefix are the runtime's)."""
    concurrency: int | None
    """Submissions a host judges at once; None: its node's CPUs."""
    queue_limit: int
    """Submissions a host keeps waiting beyond those; more are refused (503)."""


@dataclass(frozen=True)
class CollabConfig:
    session_ttl_seconds: float
    snapshot_seconds: float
    grace_seconds: float


@dataclass(frozen=True)
class KindsConfig:
    database_url: str
    db_pool_size: int
    """Connections each host keeps to PostgreSQL (`DB_POOL_SIZE`, as the fronts)."""
    judging: JudgingConfig
    contest: ContestRules
    collab: CollabConfig


def judge_workers(config: KindsConfig, runtime: RuntimeConfig) -> WorkerPoolConfig:
    """The judge workers of this runtime: named in its namespace, with its prefix."""
    return replace(config.judging.workers, namespace=runtime.namespace, prefix=runtime.prefix)


def factories(config: KindsConfig | None, runtime: RuntimeConfig) -> dict[str, ActorFactory]:
    """{kind: factory}; without a config (a runtime with no database), only the probe."""
    kinds: dict[str, ActorFactory] = {"probe": lambda actor_id, context: Probe(actor_id, context)}
    if config is not None:
        engine = create_engine(config.database_url, config.db_pool_size)
        sessions = session_factory(engine)
        rooms = SqlRoomStore(sessions, Transactions(engine))
        workers = JudgeWorkers(judge_workers(config, runtime))
        judge = build_judge(workers, config.judging.concurrency, config.judging.queue_limit)

        def room(actor_id: str, context: ActorContext) -> ContestRoom:
            # The first room of a host starts the judge workers (once), so their processes boot
            # while players join, not at the first submission; a host with no rooms (collab
            # sessions, the match pool) costs no judge worker process, idle or not.
            workers.start()
            return ContestRoom(actor_id, context, rooms, judge, config.contest)

        kinds["room"] = SharingFactory(room, judge=judge.stats)
        collab = SqlCollabStore(sessions)
        matches = SqlMatchStore(sessions, collab, config.collab.session_ttl_seconds)
        kinds["pool"] = lambda actor_id, context: MatchPool(actor_id, context, matches)
        kinds["collab"] = lambda actor_id, context: CollabSession(
            actor_id, context, collab, config.collab.snapshot_seconds, config.collab.grace_seconds
        )
    # As in the front: the host's imports (Ray, SQLAlchemy) leave a heap that every full
    # collection would walk, a stop of all the host's actors.
    gc.collect()
    gc.freeze()
    return kinds

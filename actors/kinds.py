"""The actor kinds this server hosts, by the prefix of their ids (`probe:…`, `room:…`, `pool:…`, `collab:…`).

This is the wiring between the actors and the world: each host process builds its
database store and judge here once and hands them to the actors it creates. The judge is
the host's bounded queue in front of the cluster's judge workers (judge/ray_workers.py),
whose engine `judge_engine` builds.
"""

from __future__ import annotations

import gc
from typing import Any

from actors.collab.session import CollabSession
from actors.contest.room import ContestRoom
from actors.contest.rules import ContestRules
from actors.context import ActorContext
from actors.diagnostics import Probe
from actors.host import ActorFactory, SharingFactory
from actors.matching.pool import MatchPool
from judge.backends import build_engine, build_judge
from judge.interface import Judge
from judge.ray_workers import CALLBACK_PATH, JudgeWorkers, WorkerPoolConfig
from persistence.database import Transactions, create_engine, session_factory
from persistence.repositories.collab import SqlCollabStore
from persistence.repositories.contest import SqlRoomStore
from persistence.repositories.matching import SqlMatchStore


def room_store(database_url: str) -> SqlRoomStore:
    engine = create_engine(database_url)
    return SqlRoomStore(session_factory(engine), Transactions(engine))


def judge_engine(config: dict[str, Any], worker: int) -> Judge:
    """The engine judge worker `worker` runs: the question's tests come from the database."""
    store = room_store(config["database_url"])
    callback = config.get("judge0_callback_url")
    return build_engine(
        config.get("judge", "sandbox"),
        store.tests_of,
        config.get("judge0_url"),
        config.get("judge0_auth_token"),
        f"{callback.rstrip('/')}{CALLBACK_PATH}/{worker}" if callback else None,
    )


def judge_workers(config: dict[str, Any]) -> WorkerPoolConfig:
    return WorkerPoolConfig(
        namespace=config.get("actor_namespace", "peerprep"),
        prefix=config.get("actor_prefix", ""),
        engine=f"{__name__}:judge_engine",
        engine_config=config,
        workers=config.get("judge_workers"),
        resource=config.get("judge_ray_resource"),
        embedded=config.get("ray_embedded", True),
        retries=config.get("judge_worker_retries", 2),
        timeout=config.get("judge_timeout_seconds", 300.0),
    )


def factories(config: dict[str, Any]) -> dict[str, ActorFactory]:
    kinds: dict[str, ActorFactory] = {"probe": lambda actor_id, context: Probe(actor_id, context)}
    if "database_url" in config:
        store = room_store(config["database_url"])
        workers = JudgeWorkers(judge_workers(config))
        judge = build_judge(workers, config.get("judge_concurrency"), config.get("judge_queue_limit", 100))
        rules = ContestRules(**config.get("contest", {}))

        def room(actor_id: str, context: ActorContext) -> ContestRoom:
            # The first room of a host starts the judge workers (once), so their processes boot
            # while players join, not at the first submission; a host with no rooms (collab
            # sessions, the match pool) costs no judge worker process, idle or not.
            workers.start()
            return ContestRoom(actor_id, context, store, judge, rules)

        kinds["room"] = SharingFactory(room, judge=judge.stats)
        matches = SqlMatchStore(store.sessions, config.get("collab_session_ttl_seconds", 2 * 3600))
        kinds["pool"] = lambda actor_id, context: MatchPool(actor_id, context, matches)
        sessions = SqlCollabStore(store.sessions)
        snapshot_seconds = config.get("collab_snapshot_seconds", 5.0)
        grace_seconds = config.get("collab_grace_seconds", 30.0)
        kinds["collab"] = lambda actor_id, context: CollabSession(
            actor_id, context, sessions, snapshot_seconds, grace_seconds
        )
    # As in the front: the host's imports (Ray, SQLAlchemy) leave a heap of ~90k objects that
    # every full collection would walk, a stop of all the host's rooms (55 ms measured).
    gc.collect()
    gc.freeze()
    return kinds

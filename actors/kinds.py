"""The actor kinds this server hosts, by the prefix of their ids (`probe:…`, `room:…`, `pool:…`, `collab:…`).

This is the wiring between the actors and the world: each host process builds its
database store and judge here once and hands them to the actors it creates.
"""

from __future__ import annotations

from typing import Any

from actors.collab.session import CollabSession
from actors.contest.room import ContestRoom
from actors.contest.rules import ContestRules
from actors.diagnostics import Probe
from actors.host import ActorFactory
from actors.matching.pool import MatchPool
from judge.backends import build_judge
from persistence.database import create_engine, session_factory
from persistence.repositories.collab import SqlCollabStore
from persistence.repositories.contest import SqlRoomStore
from persistence.repositories.matching import SqlMatchStore


def factories(config: dict[str, Any]) -> dict[str, ActorFactory]:
    kinds: dict[str, ActorFactory] = {"probe": lambda actor_id, context: Probe(actor_id, context)}
    if "database_url" in config:
        store = SqlRoomStore(session_factory(create_engine(config["database_url"])))
        judge = build_judge(
            config.get("judge", "sandbox"),
            store.tests_of,
            config.get("judge_concurrency"),
            config.get("judge_queue_limit", 100),
            config.get("judge0_url"),
            config.get("judge0_auth_token"),
        )
        rules = ContestRules(**config.get("contest", {}))
        kinds["room"] = lambda actor_id, context: ContestRoom(actor_id, context, store, judge, rules)
        matches = SqlMatchStore(store.sessions, config.get("collab_session_ttl_seconds", 2 * 3600))
        kinds["pool"] = lambda actor_id, context: MatchPool(actor_id, context, matches)
        sessions = SqlCollabStore(store.sessions)
        snapshot_seconds = config.get("collab_snapshot_seconds", 5.0)
        grace_seconds = config.get("collab_grace_seconds", 30.0)
        kinds["collab"] = lambda actor_id, context: CollabSession(
            actor_id, context, sessions, snapshot_seconds, grace_seconds
        )
    return kinds

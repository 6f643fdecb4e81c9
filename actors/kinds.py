"""The actor kinds this server hosts, by the prefix of their ids (`probe:…`, later `room:…`)."""

from __future__ import annotations

from typing import Any

from actors.diagnostics import Probe
from actors.host import ActorFactory


def factories(config: dict[str, Any]) -> dict[str, ActorFactory]:
    return {"probe": lambda actor_id, context: Probe(actor_id, context)}

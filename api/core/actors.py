"""The way from a route to the actors: this front's actor runtime, or a 503 when it has none."""

from __future__ import annotations

from actors.hosting.runtime import ActorRuntime
from api.core.errors import ApiError
from api.core.services import Services


def actor_runtime(svc: Services) -> ActorRuntime:
    if svc.actors is None:
        raise ApiError(503, "The actor runtime is not running on this front", {"Retry-After": "5"})
    return svc.actors

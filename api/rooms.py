"""The front's side of contest rooms: messages to room actors, their refusals as HTTP errors,
and waking the rooms that were live when the cluster last stopped."""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any

from actors.actor import Wake
from actors.contest.errors import (
    Conflict,
    ContestError,
    NotAllowed,
    RateLimited,
    RoomNotFound,
    RuleBroken,
    Unavailable,
)
from actors.contest.room import room_topic
from api.errors import ApiError
from api.services import Services
from persistence.repositories import contest as contest_records

log = logging.getLogger("peerprep.rooms")

STATUS_OF = {RoomNotFound: 404, NotAllowed: 403, Conflict: 409, RuleBroken: 400, RateLimited: 429, Unavailable: 503}


def as_api_error(error: ContestError) -> ApiError:
    """Room refusals keep the seed's words; the status says what kind of refusal it is."""
    status = next((code for kind, code in STATUS_OF.items() if isinstance(error, kind)), 400)
    headers = None
    if isinstance(error, RateLimited | Unavailable):
        headers = {"Retry-After": str(max(1, math.ceil(error.retry_after)))}
    return ApiError(status, error.message, headers)


def runtime(svc: Services):
    if svc.actors is None:
        raise ApiError(503, "The actor runtime is not running on this front", {"Retry-After": "5"})
    return svc.actors


async def ask_room(svc: Services, room_id: int, message: Any) -> Any:
    try:
        return await runtime(svc).client.ask(room_topic(room_id), message)
    except ContestError as error:
        raise as_api_error(error) from None


async def wake_live_rooms(svc: Services) -> int:
    """Activate every ACTIVE room so its deadline timer is armed again (after a full restart)."""
    async with svc.sessions() as session:
        room_ids = await contest_records.live_room_ids(session)
    client = runtime(svc).client
    results = await asyncio.gather(
        *(client.ask(room_topic(room_id), Wake()) for room_id in room_ids), return_exceptions=True
    )
    for room_id, result in zip(room_ids, results, strict=True):
        if isinstance(result, BaseException):
            log.error("could not wake room %s: %s", room_id, result)
    return sum(not isinstance(result, BaseException) for result in results)

"""The front's side of contest rooms: messages to room actors, their refusals as HTTP errors,
and waking the rooms that were live when the cluster last stopped."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Iterator
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

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
from actors.contest.messages import Create, Join
from actors.contest.room import room_actor_id
from api.core.actors import actor_runtime
from api.core.errors import ApiError
from api.core.services import Services
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


async def ask_room(svc: Services, room_id: int, message: Any) -> Any:
    try:
        return await actor_runtime(svc).client.ask(room_actor_id(room_id), message)
    except ContestError as error:
        raise as_api_error(error) from None


async def join_room(svc: Services, ip: str, user_id: int, room_id: int, password: str) -> str:
    """Join with the room's password; wrong passwords count against the caller's IP and account
    (the front's bound, over every room) before the room's own bound (over its guessers)."""
    limits = svc.auth_limits
    keys = limits.room_join(ip, user_id)
    await limits.check(keys)
    try:
        joined = await actor_runtime(svc).client.ask(room_actor_id(room_id), Join(user_id, password))
    except NotAllowed as wrong_password:
        await limits.failed(keys)
        raise as_api_error(wrong_password) from None
    except ContestError as error:
        raise as_api_error(error) from None
    await limits.succeeded(keys)
    return joined


class RoomIds:
    """Ids for the rooms this front creates, from a block it reserved in the database (one
    write per block, not per room)."""

    def __init__(self) -> None:
        self._free: Iterator[int] = iter(())
        self._refill = asyncio.Lock()

    async def take(self, session: AsyncSession) -> int:
        async with self._refill:
            room_id = next(self._free, None)
            if room_id is None:
                self._free = iter(await contest_records.reserve_room_ids(session))
                room_id = next(self._free)
            return room_id


async def create_room(svc: Services, session: AsyncSession, host_user_id: int, password: str) -> dict[str, Any]:
    """A new room, created by its own actor under an id this front reserved; its Room JSON."""
    actor_runtime(svc)  # no id is spent when no actor can take it
    if svc.room_ids is None:
        svc.room_ids = RoomIds()
    room_id = await svc.room_ids.take(session)
    return await ask_room(svc, room_id, Create(host_user_id, password))


async def wake_live_rooms(svc: Services) -> int:
    """Activate every ACTIVE room so its deadline timer is armed again (after a full restart)."""
    async with svc.sessions() as session:
        room_ids = await contest_records.live_room_ids(session)
    client = actor_runtime(svc).client
    results = await asyncio.gather(
        *(client.ask(room_actor_id(room_id), Wake()) for room_id in room_ids), return_exceptions=True
    )
    for room_id, result in zip(room_ids, results, strict=True):
        if isinstance(result, BaseException):
            log.error("could not wake room %s: %s", room_id, result)
    return sum(not isinstance(result, BaseException) for result in results)

"""Peer matchmaking (PeerPrep matching-service): requests go to the pool actor, news comes back as SSE.

Served at the gateway's `/match` (the contract: `request`, `status`, `cancel`, `subscribe`
(SSE), `signal`; statuses in the real service's lower case), at `/matching/...` with the same
names (as the seed's doc.yaml writes them), and, deprecated, at `/matching/requests`,
`/matching/events/...` and the rest of the first contract. User ids are strings, as the seed
shows ("42"); a body's or path's userId must be the caller's own unless the caller is an admin.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse

from actors.matching.pool import POOL_ACTOR_ID, Cancel, GetStatus, RequestMatch, Signal, user_topic
from api.core.actors import actor_runtime
from api.core.deps import AdminDep, CallerDep, ServicesDep, SessionDep, parse_user_id, require_self_or_admin
from api.core.errors import ApiError, forbidden, not_found
from api.core.live_sessions import LOGIN_ENDED
from api.core.schemas import ERROR_RESPONSES
from api.matching.schemas import MatchRequestIn, SignalIn, UserIdIn
from api.matching.sse import match_events, with_string_ids
from persistence.repositories import collab as collab_records

router = APIRouter(prefix="/match", tags=["matching"], responses=ERROR_RESPONSES)
documented_router = APIRouter(prefix="/matching", tags=["matching"], responses=ERROR_RESPONSES)
legacy_router = APIRouter(prefix="/matching", tags=["matching"], responses=ERROR_RESPONSES, deprecated=True)


def _own(caller, raw: str) -> int:
    user_id = parse_user_id(raw)
    require_self_or_admin(caller, user_id)
    return user_id


async def _ask_pool(svc, message) -> Any:
    return await actor_runtime(svc).client.ask(POOL_ACTOR_ID, message)


@legacy_router.post("/requests", summary="Queue for a match, or get one at once (200 matched, 202 queued)")
async def request_match(body: MatchRequestIn, caller: CallerDep, svc: ServicesDep):
    user_id = _own(caller, body.userId)
    ttl_ms = min(body.ttlMs or svc.settings.matching_ttl_ms_default, svc.settings.matching_ttl_ms_max)
    message = RequestMatch(user_id, body.languageIn, body.difficultyIn, body.topicIn, ttl_ms / 1000)
    answer = with_string_ids(await _ask_pool(svc, message))
    return JSONResponse(answer, status_code=200 if answer["status"] == "matched" else 202)


@documented_router.get("/status/{userId}", summary="QUEUED (with position), MATCHED, CANCELLED or EXPIRED")
async def status(userId: str, caller: CallerDep, svc: ServicesDep) -> dict:
    user_id = _own(caller, userId)
    found = await _ask_pool(svc, GetStatus(user_id))
    if found is None:
        raise not_found("No match request for this user")
    return with_string_ids(found)


@documented_router.post("/cancel", summary="Cancel the caller's waiting request")
async def cancel(body: UserIdIn, caller: CallerDep, svc: ServicesDep) -> dict:
    return with_string_ids(await _ask_pool(svc, Cancel(_own(caller, body.userId))))


@documented_router.post("/signal/{userId}", summary="Send a user a MATCH_FOUND event by hand (admin)")
async def signal(userId: str, body: SignalIn, caller: AdminDep, svc: ServicesDep) -> dict:
    user_id = parse_user_id(userId)
    listeners = actor_runtime(svc).bus.fanout.subscribers(user_topic(user_id))
    answer = await _ask_pool(svc, Signal(user_id, body.roomId))
    return {**with_string_ids(answer), "delivered": listeners}


@legacy_router.get("/events/{userId}", summary="SSE: heartbeat, MATCH_FOUND, TIMEOUT")
async def events(
    request: Request,
    userId: str,
    caller: CallerDep,
    svc: ServicesDep,
    ttlMs: Annotated[int | None, Query(ge=1000)] = None,
    pollMs: Annotated[int | None, Query(ge=1, description="accepted for the seed's clients; events are pushed")] = None,
) -> StreamingResponse:
    user_id = parse_user_id(userId)
    if caller.user_id != user_id:
        raise forbidden("You may only watch your own match events")
    # A stream the caller's cookie opened must come from an allowed page (api/server/origins.py).
    by_cookie = "authorization" not in request.headers
    if by_cookie and not request.app.state.origins.allows(
        request.headers.get("origin"), request.headers.get("host"), credentials=True
    ):
        raise forbidden("Origin not allowed")
    slot = request.app.state.stream_caps.acquire(request.client.host if request.client else None, user_id)
    if slot.refusal is not None:
        raise ApiError(429, slot.refusal)
    try:
        subscription = await actor_runtime(svc).bus.subscribe(user_topic(user_id))
    except BaseException:
        slot.release()
        raise
    try:
        current = await _ask_pool(svc, GetStatus(user_id))
    except BaseException:
        subscription.close()
        slot.release()
        raise
    deadline = None
    if ttlMs is not None:
        deadline = asyncio.get_running_loop().time() + min(ttlMs, svc.settings.matching_ttl_ms_max) / 1000
    unwatch = svc.live_sessions.on_login_end(caller, lambda: subscription.close(LOGIN_ENDED))

    def ended() -> None:
        unwatch()
        slot.release()

    stream = match_events(subscription, current, svc.settings.matching_heartbeat_seconds, deadline, ended)
    return StreamingResponse(stream, media_type="text/event-stream", headers={"Cache-Control": "no-store"})


# The gateway's matching-service, `/match/...`, and doc.yaml's `/matching/...` names.


async def gateway_request(body: MatchRequestIn, caller: CallerDep, svc: ServicesDep, session: SessionDep):
    """200 `matched` with `roomId` (the collab session), 202 `queued`; 409 while the caller is in
    an active collab session (the PeerPrep frontend then resumes that one)."""
    active = await collab_records.active_session_of(session, _own(caller, body.userId))
    await session.rollback()
    if active is not None:
        raise ApiError(409, "User already in an active session")
    return await request_match(body, caller, svc)


def _lower_status(answer: dict) -> dict:
    return {**answer, "status": answer["status"].lower()}


async def gateway_status(userId: str, caller: CallerDep, svc: ServicesDep) -> dict:
    """`queued` (with `position`), `matched` (with `match`), `cancelled`, `expired`, or `not_found`."""
    found = await _ask_pool(svc, GetStatus(_own(caller, userId)))
    if found is None:
        return {"userId": userId, "status": "not_found"}
    return _lower_status(with_string_ids(found))


async def gateway_cancel(body: UserIdIn, caller: CallerDep, svc: ServicesDep) -> dict:
    return _lower_status(await cancel(body, caller, svc))


router.add_api_route("/request", gateway_request, methods=["POST"],
                     summary="Queue for a match, or get one at once (200 matched, 202 queued)")  # fmt: skip
router.add_api_route("/status/{userId}", gateway_status, methods=["GET"],
                     summary="queued, matched, cancelled, expired or not_found")  # fmt: skip
router.add_api_route("/cancel", gateway_cancel, methods=["POST"], summary="Cancel the caller's waiting request")
router.add_api_route("/subscribe/{userId}", events, methods=["GET"], summary="SSE: heartbeat, MATCH_FOUND, TIMEOUT")
router.add_api_route("/signal/{userId}", signal, methods=["POST"], summary="Send a user a MATCH_FOUND event (admin)")
# doc.yaml's names under `/matching`; its `status`, `cancel` and `signal` are the first contract's
# routes of the same paths (upper-case statuses), above.
documented_router.add_api_route("/request", gateway_request, methods=["POST"],
                                summary="Queue for a match (doc.yaml's path of `/match/request`)")  # fmt: skip
documented_router.add_api_route("/subscribe/{userId}", events, methods=["GET"],
                                summary="SSE (doc.yaml's path of `/match/subscribe/{userId}`)")  # fmt: skip

"""Peer matchmaking (PeerPrep matching-service): requests go to the pool actor, news comes back as SSE.

User ids are strings on these routes, as the seed shows ("42"); a body's or path's userId
must be the caller's own unless the caller is an admin.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from actors.events.subscriptions import SubscriptionClosed
from actors.matching.pool import Cancel, GetStatus, RequestMatch, Signal, user_topic
from api.deps import AdminDep, CallerDep, ServicesDep, parse_user_id, require_self_or_admin
from api.errors import forbidden, not_found
from api.rooms import runtime
from api.schemas.common import ERROR_RESPONSES

router = APIRouter(prefix="/matching", tags=["matching"], responses=ERROR_RESPONSES)

POOL = "pool:main"
Criteria = str | list[str]


class MatchRequestIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"userId": "user123", "languageIn": "JavaScript", "difficultyIn": "Easy", "topicIn": "Algorithms",
                 "ttlMs": 300000}
            ]
        }
    )  # fmt: skip

    userId: str = Field(max_length=32)
    languageIn: Criteria
    difficultyIn: Criteria
    topicIn: Criteria
    ttlMs: int | None = Field(None, ge=1000)

    @field_validator("languageIn", "difficultyIn", "topicIn")
    @classmethod
    def _as_list(cls, value: Criteria) -> list[str]:
        values = [value] if isinstance(value, str) else value
        values = [item.strip() for item in values if isinstance(item, str) and item.strip()]
        if not values or len(values) > 32 or any(len(item) > 64 for item in values):
            raise ValueError("give 1 to 32 non-empty values of at most 64 characters")
        return values


class UserIdIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"userId": "user123"}]})

    userId: str = Field(max_length=32)


class SignalIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"roomId": "room789"}]})

    roomId: str = Field("", max_length=64)


def _own(caller, raw: str) -> int:
    user_id = parse_user_id(raw)
    require_self_or_admin(caller, user_id)
    return user_id


def _with_string_ids(body: dict[str, Any]) -> dict[str, Any]:
    """The PeerPrep seed renders user ids as strings."""
    out = dict(body)
    for key in ("userId", "partnerId"):
        if key in out and out[key] is not None:
            out[key] = str(out[key])
    if isinstance(out.get("match"), dict):
        out["match"] = _with_string_ids(out["match"])
    return out


async def _ask_pool(svc, message) -> Any:
    return await runtime(svc).client.ask(POOL, message)


@router.post("/requests", summary="Queue for a match, or get one at once (200 matched, 202 queued)")
async def request_match(body: MatchRequestIn, caller: CallerDep, svc: ServicesDep):
    user_id = _own(caller, body.userId)
    ttl_ms = min(body.ttlMs or svc.settings.matching_ttl_ms_default, svc.settings.matching_ttl_ms_max)
    message = RequestMatch(user_id, body.languageIn, body.difficultyIn, body.topicIn, ttl_ms / 1000)
    answer = _with_string_ids(await _ask_pool(svc, message))
    return JSONResponse(answer, status_code=200 if answer["status"] == "matched" else 202)


@router.get("/status/{userId}", summary="QUEUED (with position), MATCHED, CANCELLED or EXPIRED")
async def status(userId: str, caller: CallerDep, svc: ServicesDep) -> dict:
    user_id = _own(caller, userId)
    found = await _ask_pool(svc, GetStatus(user_id))
    if found is None:
        raise not_found("No match request for this user")
    return _with_string_ids(found)


@router.post("/cancel", summary="Cancel the caller's waiting request")
async def cancel(body: UserIdIn, caller: CallerDep, svc: ServicesDep) -> dict:
    return _with_string_ids(await _ask_pool(svc, Cancel(_own(caller, body.userId))))


@router.post("/signal/{userId}", summary="Send a user a MATCH_FOUND event by hand (admin)")
async def signal(userId: str, body: SignalIn, caller: AdminDep, svc: ServicesDep) -> dict:
    user_id = parse_user_id(userId)
    listeners = runtime(svc).bus.fanout.subscribers(user_topic(user_id))
    answer = await _ask_pool(svc, Signal(user_id, body.roomId))
    return {**_with_string_ids(answer), "delivered": listeners}


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


@router.get("/events/{userId}", summary="SSE: heartbeat, MATCH_FOUND, TIMEOUT")
async def events(
    userId: str,
    caller: CallerDep,
    svc: ServicesDep,
    ttlMs: Annotated[int | None, Query(ge=1000)] = None,
    pollMs: Annotated[int | None, Query(ge=1, description="accepted for the seed's clients; events are pushed")] = None,
) -> StreamingResponse:
    user_id = parse_user_id(userId)
    if caller.user_id != user_id:
        raise forbidden("You may only watch your own match events")
    subscription = await runtime(svc).bus.subscribe(user_topic(user_id))
    try:
        current = await _ask_pool(svc, GetStatus(user_id))
    except BaseException:
        subscription.close()
        raise
    heartbeat = svc.settings.matching_heartbeat_seconds
    loop = asyncio.get_running_loop()
    deadline = None if ttlMs is None else loop.time() + min(ttlMs, svc.settings.matching_ttl_ms_max) / 1000

    def found(event: dict[str, Any]) -> str:
        fields = {key: event[key] for key in ("roomId", "topic", "difficulty", "language", "questionId",
                                               "partnerId") if key in event}  # fmt: skip
        return _sse("MATCH_FOUND", _with_string_ids(fields))

    async def stream():
        try:
            if current and current["status"] == "MATCHED":
                yield found({**current["match"]})
                return
            if current and current["status"] == "EXPIRED":
                yield _sse("TIMEOUT", {})
                return
            yield _sse("heartbeat", {})
            while True:
                wait = heartbeat if deadline is None else min(heartbeat, deadline - loop.time())
                if wait <= 0:
                    yield _sse("TIMEOUT", {})
                    return
                try:
                    event = await asyncio.wait_for(subscription.get(), wait)
                except TimeoutError:
                    if deadline is None or loop.time() < deadline:
                        yield _sse("heartbeat", {})
                    continue
                except SubscriptionClosed:
                    return
                if event["type"] == "MATCH_FOUND":
                    yield found(event)
                    return
                if event["type"] == "TIMEOUT":
                    yield _sse("TIMEOUT", {})
                    return
        finally:
            subscription.close()

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})

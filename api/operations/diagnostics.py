"""Operator diagnostics (admin only): watch a topic as SSE, make a probe publish a sequence."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from actors.diagnostics import PublishSequence
from actors.events.subscriptions import SubscriptionClosed
from api.core.actors import actor_runtime
from api.core.deps import AdminDep, ServicesDep
from api.core.errors import bad_request
from api.core.live_sessions import LOGIN_ENDED
from api.core.schemas import ERROR_RESPONSES

router = APIRouter(prefix="/admin", tags=["operations"], responses=ERROR_RESPONSES)

PROBE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
TOPIC = re.compile(r"^[a-z]{1,32}:[A-Za-z0-9_-]{1,96}$")


@router.post("/probes/{name}/publish", summary="Make probe:{name} publish events 0…count-1 on its topic")
async def publish_sequence(
    name: str, caller: AdminDep, svc: ServicesDep, count: Annotated[int, Query(ge=1, le=10_000)] = 10
) -> dict:
    if not PROBE_NAME.match(name):
        raise bad_request("Probe names are 1-64 letters, digits, '-' or '_'")
    return await actor_runtime(svc).client.ask(f"probe:{name}", PublishSequence(count))


@router.get("/events", summary="Stream a topic's events as Server-Sent Events")
async def stream_topic(
    request: Request,
    caller: AdminDep,
    svc: ServicesDep,
    topic: Annotated[str, Query(max_length=128)],
    heartbeat: Annotated[float, Query(gt=0, le=300)] = 15.0,
) -> StreamingResponse:
    if not TOPIC.match(topic):
        raise bad_request("Topics are actor ids: kind:key, e.g. probe:check")
    subscription = await actor_runtime(svc).bus.subscribe(topic)
    unwatch = svc.live_sessions.on_login_end(caller, lambda: subscription.close(LOGIN_ENDED))

    async def stream():
        try:
            yield ": subscribed\n\n"
            while True:
                try:
                    event = await asyncio.wait_for(subscription.get(), heartbeat)
                except TimeoutError:
                    yield "event: heartbeat\ndata: {}\n\n"
                    continue
                except SubscriptionClosed as closed:
                    yield f"event: closed\ndata: {json.dumps({'reason': str(closed)})}\n\n"
                    return
                yield f"data: {json.dumps(event)}\n\n"
        finally:
            unwatch()
            subscription.close()

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})

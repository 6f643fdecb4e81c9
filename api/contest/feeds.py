"""What STOMP clients of the contest subscribe to, rendered per viewer.

`/topic/room/{id}` streams `RoomStateResponse`: the current state first, then one after
every change. `/topic/room/{id}/events` streams VERDICT, STARTED and ENDED events; a
verdict's `compileOutput` appears only on the submitter's own connection. Both read the
room's one topic on the event bus (`room:{id}`); the bus subscription is confirmed before
the current state is fetched, so nothing published in between is missed, and states
older than that one are skipped. Events are never skipped: every one that reaches the
subscription happened after it was confirmed.

A state that counts a verdict carries when a front received that submission; once its
frame is written to the socket, `on_push` hears the seconds since (the front's metric).
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from starlette.requests import HTTPConnection

from actors.contest.errors import ContestError
from actors.contest.messages import GetState
from actors.contest.room import room_actor_id, room_topic
from actors.contest.views import room_state_for
from actors.events.subscriptions import Subscription, SubscriptionClosed
from api.contest.stomp.application import Principal, Refused, Timed
from api.contest.stomp.routes import mount_ws
from api.contest.stomp.session import StompLimits
from api.contest.stomp.sockjs import Admit, SockJSLimits
from api.core.security import InvalidToken
from api.core.services import Services
from api.server.origins import OriginPolicy
from api.server.socket_routes import SocketRoute
from api.settings import Settings

DESTINATION = re.compile(r"^/topic/room/(?P<room>[1-9][0-9]{0,9})(?P<events>/events)?$")


def _dumps(body: dict[str, Any]) -> str:
    return json.dumps(body, separators=(",", ":"))


PushObserver = Callable[[float], None]


class RoomFeed:
    def __init__(
        self,
        subscription: Subscription,
        viewer: int | None,
        events: bool,
        snapshot: dict[str, Any],
        on_push: PushObserver | None = None,
    ):
        self.subscription = subscription
        self.viewer = viewer
        self.events = events
        self.on_push = on_push
        self.seen = (snapshot["incarnation"], snapshot["version"])
        self.first: str | None = None if events else _dumps(room_state_for(snapshot, viewer))

    def _stale(self, incarnation: str, version: int) -> bool:
        return incarnation == self.seen[0] and version <= self.seen[1]

    async def next(self) -> str | Timed | None:
        if self.first is not None:
            first, self.first = self.first, None
            return first
        while True:
            try:
                published = await self.subscription.get()
            except SubscriptionClosed:
                return None
            if published["type"] == "state" and not self.events:
                state = published["state"]
                if self._stale(state["incarnation"], state["version"]):
                    continue
                body = _dumps(room_state_for(state, self.viewer))
                received_at = published.get("submitReceivedAt")
                if received_at is None or self.on_push is None:
                    return body
                return Timed(body, functools.partial(self._pushed, received_at))
            if published["type"] == "event" and self.events:
                event = dict(published["event"])
                private = published.get("private") or {}
                if event["type"] == "VERDICT" and private.get("userId") == self.viewer:
                    event["compileOutput"] = private.get("compileOutput")
                return _dumps(event)

    def _pushed(self, received_at: float) -> None:
        self.on_push(time.time() - received_at)

    def close(self) -> None:
        self.subscription.close()


class RoomStompApplication:
    """The contest as a `StompApplication`: who a connection is, and the room feeds."""

    def __init__(self, services: Services, on_push: PushObserver | None = None) -> None:
        self.services = services
        self.on_push = on_push

    async def authenticate(self, token: str | None) -> Principal:
        if not token:
            if self.services.settings.stomp_require_auth:
                raise Refused("Authentication required")
            return Principal(None)
        try:
            claims = await self.services.live_sessions.claims(token)
            return Principal(claims.user_id, self.services.live_sessions.login(claims))
        except InvalidToken:
            raise Refused("Invalid token") from None

    async def subscribe(self, principal: Principal, destination: str) -> RoomFeed:
        match = DESTINATION.match(destination)
        if match is None:
            raise Refused(f"Unknown destination {destination[:100]}")
        room_id = int(match["room"])
        runtime = self.services.actors
        if runtime is None:
            raise Refused("The actor runtime is not running on this front")
        subscription = await runtime.bus.subscribe(room_topic(room_id))
        try:
            snapshot = await runtime.client.ask(room_actor_id(room_id), GetState())
            if principal.user_id is not None and principal.user_id not in snapshot["participants"]:
                raise Refused("User not in room")
        except ContestError as error:
            subscription.close()
            raise Refused(error.message) from None
        except BaseException:
            subscription.close()
            raise
        return RoomFeed(subscription, principal.user_id, bool(match["events"]), snapshot, self.on_push)


def contest_sockets(app: FastAPI, settings: Settings, admit: Admit | None = None) -> list[SocketRoute]:
    """`/ws`: SockJS and raw STOMP, serving the room feeds; returns the WebSocket routes. `admit`
    places each SockJS HTTP-transport session under the socket caps."""
    limits = StompLimits(
        max_frame_bytes=settings.stomp_max_frame_bytes,
        max_subscriptions=settings.stomp_max_subscriptions,
        heartbeat_send_ms=settings.stomp_heartbeat_ms,
        heartbeat_receive_ms=settings.stomp_heartbeat_ms,
        connect_timeout_seconds=settings.stomp_connect_timeout_seconds,
        outbound_queue_bytes=settings.stomp_outbound_queue_bytes,
    )
    sockjs = SockJSLimits(
        heartbeat_seconds=settings.sockjs_heartbeat_seconds, max_sessions=settings.sockjs_max_sessions
    )

    def resolve(connection: HTTPConnection) -> RoomStompApplication:
        services = connection.app.state.services
        if services.stomp is None:
            services.stomp = RoomStompApplication(services, connection.app.state.metrics.verdict_push.observe)
        return services.stomp

    return mount_ws(app, resolve, limits, sockjs, OriginPolicy(settings.frontend_origins), admit)

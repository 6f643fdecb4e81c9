"""WebSocket routes served ahead of FastAPI's router and middleware stack.

FastAPI keeps a routed WebSocket's request handling alive for the socket's whole life: a dozen
nested coroutine frames, its dependency exit stacks, its scope entries — most of an idle STOMP
client's cost on the front — and every middleware around it keeps a frame too. The STOMP and
collab sockets need none of it (no dependencies, no body; path parameters only), so
`SocketRoutes` matches their paths itself and calls the endpoint with a Starlette `WebSocket`,
giving the socket the two things the middlewares would: its request id (for logs) and, with
`metrics`, its place in the open-connections gauge. `scope["route"]` is set as FastAPI sets
it, so the gauge is labelled with the route's template.

Before the endpoint runs, a handshake is refused (HTTP status before accept, `{"error": ...}`)
when its `Origin` is not allowed (`origins`: 403) or its client already holds as many sockets
as `caps` allow, per IP address and per user (`identify` names the user from the handshake:
429); the socket's slot is given back when it ends.

The front installs it outside its whole middleware stack (`FrontApp` in api/app.py); it also
works as an ordinary middleware.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.routing import Match, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from api.server.connection_caps import ConnectionCaps, Slot
from api.server.metrics import CountedWebSocket, FrontMetrics
from api.server.middleware import request_id_for
from api.server.origins import OriginPolicy
from api.server.request_context import reset_request_id, set_request_id

WebSocketEndpoint = Callable[..., Awaitable[None]]
# A path template and the endpoint that serves it: endpoint(websocket, **path_params).
SocketRoute = tuple[str, WebSocketEndpoint]
# The user a handshake authenticates as (its `?token=` or cookie), None when it names none.
Identify = Callable[[Scope], int | None]


class SocketRoutes:
    """Serves the WebSocket requests that match `routes` (endpoint(websocket, **path_params));
    everything else goes on to `app`."""

    def __init__(
        self,
        app: ASGIApp,
        routes: Sequence[SocketRoute],
        metrics: FrontMetrics | None = None,
        origins: OriginPolicy | None = None,
        caps: ConnectionCaps | None = None,
        identify: Identify | None = None,
    ) -> None:
        self.app = app
        self.routes = [WebSocketRoute(path, endpoint) for path, endpoint in routes]
        self.metrics = metrics
        self.origins = origins
        self.caps = caps
        self.identify = identify

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            for route in self.routes:
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.update(child_scope, route=route)
                    await self._serve(route, scope, receive, send)
                    return
        await self.app(scope, receive, send)

    async def _serve(self, route: WebSocketRoute, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = request_id_for(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        token = set_request_id(request_id)
        slot: Slot | None = None
        counted = None
        try:
            if self.origins is not None and not self.origins.allows_request(Headers(scope=scope)):
                await refuse(scope, receive, send, 403, "Origin not allowed")
                return
            if self.caps is not None:
                client = scope.get("client")
                user = self.identify(scope) if self.identify is not None else None
                slot = self.caps.acquire(client[0] if client else None, user)
                if slot.refusal is not None:
                    await refuse(scope, receive, send, 429, slot.refusal)
                    return
            counted = CountedWebSocket(self.metrics, scope, send) if self.metrics is not None else None
            websocket = WebSocket(scope, receive, counted.send if counted is not None else send)
            await route.endpoint(websocket, **scope["path_params"])
        finally:
            if slot is not None:
                slot.release()
            if counted is not None:
                counted.ended()
            reset_request_id(token)


async def refuse(scope: Scope, receive: Receive, send: Send, status: int, message: str) -> None:
    """Refuses a handshake before accept: `status` with `{"error": message}` where the server
    can answer a handshake with a response, else a bare close (which uvicorn answers 403)."""
    websocket = WebSocket(scope, receive, send)
    if "websocket.http.response" in scope.get("extensions", {}):
        await websocket.send_denial_response(JSONResponse({"error": message}, status_code=status))
    else:
        await websocket.close(1008)

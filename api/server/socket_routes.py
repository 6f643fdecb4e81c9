"""WebSocket routes served ahead of FastAPI's router and middleware stack.

FastAPI keeps a routed WebSocket's request handling alive for the socket's whole life: a dozen
nested coroutine frames, its dependency exit stacks, its scope entries — most of an idle STOMP
client's cost on the front — and every middleware around it keeps a frame too. The STOMP and
collab sockets need none of it (no dependencies, no body; path parameters only), so
`SocketRoutes` matches their paths itself and calls the endpoint with a Starlette `WebSocket`,
giving the socket the two things the middlewares would: its request id (for logs) and, with
`metrics`, its place in the open-connections gauge. `scope["route"]` is set as FastAPI sets
it, so the gauge is labelled with the route's template.

The front installs it outside its whole middleware stack (`FrontApp` in api/app.py); it also
works as an ordinary middleware.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from starlette.routing import Match, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from api.server.metrics import CountedWebSocket, FrontMetrics
from api.server.middleware import request_id_for
from api.server.request_context import reset_request_id, set_request_id

WebSocketEndpoint = Callable[..., Awaitable[None]]
# A path template and the endpoint that serves it: endpoint(websocket, **path_params).
SocketRoute = tuple[str, WebSocketEndpoint]


class SocketRoutes:
    """Serves the WebSocket requests that match `routes` (endpoint(websocket, **path_params));
    everything else goes on to `app`."""

    def __init__(self, app: ASGIApp, routes: Sequence[SocketRoute], metrics: FrontMetrics | None = None) -> None:
        self.app = app
        self.routes = [WebSocketRoute(path, endpoint) for path, endpoint in routes]
        self.metrics = metrics

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
        counted = CountedWebSocket(self.metrics, scope, send) if self.metrics is not None else None
        try:
            websocket = WebSocket(scope, receive, counted.send if counted is not None else send)
            await route.endpoint(websocket, **scope["path_params"])
        finally:
            if counted is not None:
                counted.ended()
            reset_request_id(token)

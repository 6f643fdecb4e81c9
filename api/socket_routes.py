"""WebSocket routes served ahead of FastAPI's router, as a pure ASGI middleware.

FastAPI keeps a routed WebSocket's request handling alive for the socket's whole life: a
dozen nested coroutine frames, its dependency exit stacks, its scope entries — about 11 KB
per socket, most of an idle STOMP client's cost on the front. The STOMP and collab sockets
need none of it (no dependencies, no body; path parameters only), so `SocketRoutes` matches
their paths itself and calls the endpoint with a Starlette `WebSocket`. Installed inside the other
middlewares, a socket still gets its request id and its metrics; `scope["route"]` is set as
FastAPI sets it, so the open-connection gauge is labelled with the route's template.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from starlette.routing import Match, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

WebSocketEndpoint = Callable[..., Awaitable[None]]
# A path template and the endpoint that serves it: endpoint(websocket, **path_params).
SocketRoute = tuple[str, WebSocketEndpoint]


class SocketRoutes:
    """Serves the WebSocket requests that match `routes` (endpoint(websocket, **path_params));
    everything else goes on to `app`."""

    def __init__(self, app: ASGIApp, routes: Sequence[SocketRoute]) -> None:
        self.app = app
        self.routes = [WebSocketRoute(path, endpoint) for path, endpoint in routes]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            for route in self.routes:
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.update(child_scope, route=route)
                    await route.endpoint(WebSocket(scope, receive, send), **child_scope["path_params"])
                    return
        await self.app(scope, receive, send)

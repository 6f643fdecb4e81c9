"""Mounts the SockJS endpoints and raw STOMP over WebSocket under `/ws`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from api.contest.stomp.session import StompLimits
from api.contest.stomp.sockjs import Admit, Resolve, SockJSInfo, SockJSLimits, SockJSServer
from api.server.origins import OriginPolicy
from api.server.socket_routes import SocketRoute

SESSION = "/{server}/{session}"


def mount_ws(
    app: FastAPI,
    resolve: Resolve,
    limits: StompLimits | None = None,
    sockjs_limits: SockJSLimits | None = None,
    origins: OriginPolicy | None = None,
    admit: Admit | None = None,
) -> list[SocketRoute]:
    """`/ws` on `app`: the HTTP endpoints on its router; returned, the two WebSocket paths, for
    the app's `SocketRoutes`.

    `resolve` maps each request or WebSocket to the StompApplication that serves it; `origins`
    (by default: none but the server's own) which pages' SockJS requests are served; `admit`
    gives each new HTTP-transport session its slot under the socket caps.
    """
    origins = origins or OriginPolicy(())
    server = SockJSServer(resolve, limits or StompLimits(), sockjs_limits or SockJSLimits(), origins, admit)
    app.include_router(_http_router(server))
    return [("/ws/websocket", server.raw_websocket), (f"/ws{SESSION}/websocket", server.websocket)]


def _http_router(server: SockJSServer) -> APIRouter:
    """Only `GET /ws/info` appears in the OpenAPI schema; the SockJS transports cannot be described there.

    The router's lifespan ends the HTTP-transport sessions still open at shutdown.
    """

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await server.sessions.close()

    router = APIRouter(prefix="/ws", tags=["websocket"], lifespan=lifespan)
    router.add_api_route(
        "/info",
        server.info,
        methods=["GET"],
        summary="SockJS info: the first request of a SockJS client",
        responses={200: {"model": SockJSInfo, "description": "What the SockJS client needs before opening a session"}},
    )
    hidden = {"include_in_schema": False}
    router.add_api_route("/info", server.info_preflight, methods=["OPTIONS"], **hidden)
    for name, endpoint in (
        ("xhr", server.xhr_polling),
        ("xhr_streaming", server.xhr_streaming),
        ("xhr_send", server.xhr_send),
    ):
        router.add_api_route(f"{SESSION}/{name}", endpoint, methods=["POST"], **hidden)
        router.add_api_route(f"{SESSION}/{name}", server.post_preflight, methods=["OPTIONS"], **hidden)
    router.add_api_route(f"{SESSION}/eventsource", server.eventsource, methods=["GET"], **hidden)
    return router

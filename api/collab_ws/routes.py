"""Mounts the collab WebSockets under `/collab`: `/ws` (Hocuspocus) and `/yjs/{session_id}` (y-websocket).

Neither client offers a subprotocol; one that does gets the first it offered, since browsers
fail a handshake that answers an offer with none. WebSocket routes do not appear in OpenAPI.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from fastapi import APIRouter
from starlette.requests import HTTPConnection
from starlette.websockets import WebSocket

from api.collab_ws.application import CollabApplication
from api.collab_ws.connection import CollabConnection, CollabLimits
from api.collab_ws.hocuspocus import HocuspocusConnection
from api.collab_ws.ywebsocket import YWebsocketConnection

log = logging.getLogger("peerprep.collab_ws")

# The access-token cookie (api.deps.ACCESS_COOKIE), read here without importing the HTTP dependencies.
ACCESS_COOKIE = "jwt_access_token"

Resolve = Callable[[HTTPConnection], CollabApplication]


class WebSocketTransport:
    """A CollabTransport over a Starlette WebSocket: binary messages, one close."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self.closed = False

    async def send(self, data: bytes) -> None:
        if self.closed:
            raise ConnectionError("WebSocket closed")
        await self.websocket.send_bytes(data)

    async def close(self, code: int, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            await self.websocket.close(code, reason)
        except Exception:
            log.debug("closing a collab WebSocket failed", exc_info=True)


async def accept(websocket: WebSocket) -> bool:
    offered = websocket.scope.get("subprotocols") or []
    try:
        await websocket.accept(subprotocol=offered[0] if offered else None)
    except Exception:
        log.debug("a collab WebSocket went away while opening", exc_info=True)
        return False
    return True


async def serve(connection: CollabConnection, websocket: WebSocket) -> None:
    """Feeds the connection what the socket receives, until either side ends."""

    async def read() -> None:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("bytes") is not None:
                connection.feed(message["bytes"])
            else:
                connection.feed_text(message.get("text") or "")

    reader = asyncio.create_task(read())
    reader.add_done_callback(lambda _task: connection.abort())
    try:
        await connection.run()
    finally:
        reader.cancel()
        [outcome] = await asyncio.gather(reader, return_exceptions=True)
        if isinstance(outcome, Exception):
            log.debug("the reader of %s %s ended with %r", connection.protocol, connection.connection_id, outcome)


def create_collab_ws_router(resolve: Resolve, limits: CollabLimits | None = None) -> APIRouter:
    """`resolve` maps each WebSocket to the CollabApplication that serves it."""
    limits = limits or CollabLimits()
    router = APIRouter(prefix="/collab", tags=["collab"])

    async def hocuspocus(websocket: WebSocket) -> None:
        application = resolve(websocket)
        if not await accept(websocket):
            return
        cookie_token = websocket.cookies.get(ACCESS_COOKIE) or None
        connection = HocuspocusConnection(application, WebSocketTransport(websocket), limits, cookie_token=cookie_token)
        await serve(connection, websocket)

    async def ywebsocket(websocket: WebSocket, session_id: str) -> None:
        application = resolve(websocket)
        if not await accept(websocket):
            return
        token = websocket.query_params.get("token") or websocket.cookies.get(ACCESS_COOKIE) or None
        connection = YWebsocketConnection(
            application, WebSocketTransport(websocket), limits, document=session_id, token=token
        )
        await serve(connection, websocket)

    router.add_api_websocket_route("/ws", hocuspocus)
    router.add_api_websocket_route("/yjs/{session_id}", ywebsocket)
    return router

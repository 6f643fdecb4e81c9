"""The collab WebSockets: `/collab/ws` (Hocuspocus) and `/collab/yjs/{session_id}` (y-websocket),
served by the app's `SocketRoutes` ahead of FastAPI's router and middleware stack.

Neither client offers a subprotocol; one that does gets the first it offered, since browsers
fail a handshake that answers an offer with none. WebSocket routes do not appear in OpenAPI.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from functools import partial

from starlette.requests import HTTPConnection
from starlette.websockets import WebSocket
from websockets.exceptions import InvalidState

from api.collab.ws.application import CollabApplication
from api.collab.ws.connection import CollabConnection, CollabLimits
from api.collab.ws.hocuspocus import HocuspocusConnection
from api.collab.ws.ywebsocket import YWebsocketConnection
from api.server.socket_routes import SocketRoute
from api.server.uvicorn_direct import receive_directly, receive_until_disconnect, sansio_protocol

log = logging.getLogger("peerprep.collab_ws")

# The access-token cookie (api.core.deps.ACCESS_COOKIE), read here without importing the HTTP dependencies.
ACCESS_COOKIE = "jwt_access_token"

Resolve = Callable[[HTTPConnection], CollabApplication]


class WebSocketTransport:
    """A CollabTransport over a Starlette WebSocket: binary messages, one close.

    Under uvicorn's sans-I/O protocol (api/uvicorn_direct.py) a message is framed and written
    to the socket directly, as that protocol's own ASGI send does, without the ASGI send chain
    (Starlette's state checks) or a task switch; its writes never wait unless the socket is
    paused, in which case (or elsewhere, or once closing) messages take the ASGI path."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self.closed = False
        self._protocol = sansio_protocol(websocket)

    def write_now(self, data: bytes) -> bool:
        protocol = self._protocol
        if (
            protocol is None
            or self.closed
            or protocol.close_sent
            or protocol.disconnected
            or not protocol.handshake_complete
            or protocol.initial_response is not None
            or not protocol.writable.is_set()
        ):
            return False
        try:
            protocol.conn.send_binary(data)
        except InvalidState:
            return False
        protocol.transport.write(b"".join(protocol.conn.data_to_send()))
        return True

    async def send(self, data: bytes) -> None:
        if self.closed:
            raise ConnectionError("WebSocket closed")
        if not self.write_now(data):
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


def _feed(connection: CollabConnection, message: bytes | str) -> None:
    if isinstance(message, bytes):
        connection.feed(message)
    else:
        connection.feed_text(message)


async def serve(connection: CollabConnection, websocket: WebSocket) -> None:
    """Feeds the connection what the socket receives, until either side ends: directly from the
    protocol under uvicorn, else through a task reading the ASGI receive."""
    if receive_directly(websocket, partial(_feed, connection), connection.abort):
        await connection.run()
        return

    reader = asyncio.create_task(receive_until_disconnect(websocket, partial(_feed, connection)))
    reader.add_done_callback(lambda _task: connection.abort())
    try:
        await connection.run()
    finally:
        reader.cancel()
        [outcome] = await asyncio.gather(reader, return_exceptions=True)
        if isinstance(outcome, Exception):
            log.debug("the reader of %s %s ended with %r", connection.protocol, connection.connection_id, outcome)


def collab_socket_routes(resolve: Resolve, limits: CollabLimits | None = None) -> list[SocketRoute]:
    """The collab paths, for `SocketRoutes`: Hocuspocus at `/collab/ws` (any document) and at
    `/collab/ws/{document}` (that one), y-websocket at `/collab/yjs/{id}`; `resolve` maps each
    WebSocket to the CollabApplication that serves it."""
    limits = limits or CollabLimits()

    def cookie_token(application: CollabApplication, websocket: WebSocket) -> str | None:
        if not application.trusts_cookies_from(websocket.headers.get("origin"), websocket.headers.get("host")):
            return None
        return websocket.cookies.get(ACCESS_COOKIE) or None

    async def hocuspocus(websocket: WebSocket, document: str | None = None) -> None:
        application = resolve(websocket)
        if not await accept(websocket):
            return
        transport = WebSocketTransport(websocket)
        connection = HocuspocusConnection(
            application, transport, limits, cookie_token=cookie_token(application, websocket), only_document=document
        )
        await serve(connection, websocket)

    async def ywebsocket(websocket: WebSocket, session_id: str) -> None:
        application = resolve(websocket)
        if not await accept(websocket):
            return
        token = websocket.query_params.get("token") or cookie_token(application, websocket)
        transport = WebSocketTransport(websocket)
        connection = YWebsocketConnection(application, transport, limits, document=session_id, token=token)
        await serve(connection, websocket)

    return [("/collab/ws", hocuspocus), ("/collab/ws/{document}", hocuspocus), ("/collab/yjs/{session_id}", ywebsocket)]

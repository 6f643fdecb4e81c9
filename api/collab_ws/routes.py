"""The collab WebSockets: `/collab/ws` (Hocuspocus) and `/collab/yjs/{session_id}` (y-websocket),
served by the app's `SocketRoutes` ahead of FastAPI's router.

Neither client offers a subprotocol; one that does gets the first it offered, since browsers
fail a handshake that answers an offer with none. WebSocket routes do not appear in OpenAPI.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from starlette.requests import HTTPConnection
from starlette.websockets import WebSocket
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.exceptions import InvalidState

from api.collab_ws.application import CollabApplication
from api.collab_ws.connection import CollabConnection, CollabLimits
from api.collab_ws.hocuspocus import HocuspocusConnection
from api.collab_ws.ywebsocket import YWebsocketConnection
from api.socket_routes import SocketRoute

log = logging.getLogger("peerprep.collab_ws")

# The access-token cookie (api.deps.ACCESS_COOKIE), read here without importing the HTTP dependencies.
ACCESS_COOKIE = "jwt_access_token"

Resolve = Callable[[HTTPConnection], CollabApplication]


# What the direct write and receive use of uvicorn's protocol object: private, so checked rather
# than assumed.
_PROTOCOL_ATTRIBUTES = ("conn", "transport", "writable", "close_sent", "disconnected", "handshake_complete",
                        "initial_response", "queue", "frames", "curr_msg_data_type", "read_paused",
                        "send_receive_event_to_app")  # fmt: skip


def _sansio_protocol(websocket: WebSocket) -> WebSocketsSansIOProtocol | None:
    """uvicorn's sans-I/O protocol serving `websocket`, found through the ASGI receive Starlette
    holds (the middleware wrap only send); None under another server or WebSocket implementation,
    or a uvicorn whose protocol no longer has what the direct write and receive use (frames then
    take the ASGI path; tests/collab_ws/test_routes.py fails on such an upgrade)."""
    protocol = getattr(getattr(websocket, "_receive", None), "__self__", None)
    if not isinstance(protocol, WebSocketsSansIOProtocol):
        return None
    return protocol if all(hasattr(protocol, name) for name in _PROTOCOL_ATTRIBUTES) else None


class WebSocketTransport:
    """A CollabTransport over a Starlette WebSocket: binary messages, one close.

    Under uvicorn's sans-I/O protocol a message is framed and written to the socket directly, as
    that protocol's own ASGI send does, without the ASGI send chain (middleware, Starlette's
    state checks) or a task switch; its writes never wait unless the socket is paused, in which
    case (or elsewhere, or once closing) messages take the ASGI path.

    Received messages can likewise be taken in the protocol's own step (`receive_directly`):
    uvicorn otherwise queues each one for the ASGI receive, pauses reading the socket until the
    app has taken it and resumes after (two system calls a message), and the app's reader task
    wakes for it. The connection's own queue limits bound what it holds instead."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self.closed = False
        self._protocol = _sansio_protocol(websocket)

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

    def receive_directly(self, on_bytes: Callable[[bytes], None], on_text: Callable[[], None]) -> bool:
        """From now on pass each message received to `on_bytes` (or a text one to `on_text`) as
        it is parsed, instead of queueing it for the ASGI receive, which then brings only the
        disconnect. False (nothing changed) under another server, or while messages are queued
        for the ASGI receive: those come first, so try again once they are taken."""
        protocol = self._protocol
        if protocol is None or self.closed or not protocol.queue.empty():
            return False

        def received() -> None:
            frames, protocol.frames = protocol.frames, []
            if protocol.close_sent:
                return  # as uvicorn does: past the close, messages are discarded
            if protocol.curr_msg_data_type == "text":
                on_text()
            else:
                on_bytes(frames[0] if len(frames) == 1 else b"".join(frames))

        protocol.send_receive_event_to_app = received
        if protocol.read_paused:
            protocol.read_paused = False
            protocol.transport.resume_reading()
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


async def serve(connection: CollabConnection, websocket: WebSocket, transport: WebSocketTransport) -> None:
    """Feeds the connection what the socket receives, until either side ends: directly from the
    protocol once it can, through the ASGI receive until then (and elsewhere)."""
    direct = False

    async def read() -> None:
        nonlocal direct
        while True:
            if not direct:
                direct = transport.receive_directly(connection.feed, lambda: connection.feed_text(""))
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


def collab_socket_routes(resolve: Resolve, limits: CollabLimits | None = None) -> list[SocketRoute]:
    """The two collab paths, for `SocketRoutes`; `resolve` maps each WebSocket to the
    CollabApplication that serves it."""
    limits = limits or CollabLimits()

    async def hocuspocus(websocket: WebSocket) -> None:
        application = resolve(websocket)
        if not await accept(websocket):
            return
        cookie_token = websocket.cookies.get(ACCESS_COOKIE) or None
        transport = WebSocketTransport(websocket)
        connection = HocuspocusConnection(application, transport, limits, cookie_token=cookie_token)
        await serve(connection, websocket, transport)

    async def ywebsocket(websocket: WebSocket, session_id: str) -> None:
        application = resolve(websocket)
        if not await accept(websocket):
            return
        token = websocket.query_params.get("token") or websocket.cookies.get(ACCESS_COOKIE) or None
        transport = WebSocketTransport(websocket)
        connection = YWebsocketConnection(application, transport, limits, document=session_id, token=token)
        await serve(connection, websocket, transport)

    return [("/collab/ws", hocuspocus), ("/collab/yjs/{session_id}", ywebsocket)]

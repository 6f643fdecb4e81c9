"""Direct use of uvicorn's sans-I/O WebSocket protocol, for the sockets that carry the most
traffic (collab) or are held by the thousand (STOMP).

Through ASGI, uvicorn queues every received message for the app's `receive`, pauses reading
the socket until the app has taken it and resumes after (two system calls a message), and a
task of the app must wait on `receive` for the socket's whole life, beside uvicorn's queue (four
deques a socket). `receive_directly` instead hands each message to a callback in the
protocol's own step, and the disconnect too, so neither the queue nor a reader task is held
(nor the handshake's headers).
The connection's own limits bound what it takes in.

The protocol object and what is used of it are private to uvicorn, so they are checked, not
assumed: under another server, another WebSocket implementation, or a uvicorn whose protocol
has changed, `sansio_protocol` gives None and the caller takes the ASGI path
(`receive_until_disconnect`; tests/collab_ws/test_routes.py fails on such an upgrade).
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.websockets import WebSocket
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

# What the direct write (api/collab_ws/routes.py) and receive use of the protocol object.
_PROTOCOL_ATTRIBUTES = ("conn", "transport", "writable", "close_sent", "disconnected", "handshake_complete",
                        "initial_response", "queue", "frames", "curr_msg_data_type", "read_paused",
                        "send_receive_event_to_app", "request", "response")  # fmt: skip

OnMessage = Callable[[bytes | str], None]


def sansio_protocol(websocket: WebSocket) -> WebSocketsSansIOProtocol | None:
    """uvicorn's sans-I/O protocol serving `websocket`, found through the ASGI receive Starlette
    holds (the middlewares wrap only send); None where it is not that, or has changed."""
    protocol = getattr(getattr(websocket, "_receive", None), "__self__", None)
    if not isinstance(protocol, WebSocketsSansIOProtocol):
        return None
    return protocol if all(hasattr(protocol, name) for name in _PROTOCOL_ATTRIBUTES) else None


def receive_directly(websocket: WebSocket, on_message: OnMessage, on_disconnect: Callable[[], None]) -> bool:
    """From now on pass each message received (bytes, or str for a text message) to
    `on_message` as it is parsed, and the disconnect to `on_disconnect`, instead of queueing
    them for the ASGI receive, which must not be called after. Messages already queued for it
    are passed first, in order. False (nothing changed) where `sansio_protocol` is None, or
    before the socket is accepted."""
    protocol = sansio_protocol(websocket)
    if protocol is None or not protocol.handshake_complete:
        return False
    while not protocol.queue.empty():
        message = protocol.queue.get_nowait()
        if message["type"] == "websocket.disconnect":
            on_disconnect()
        else:
            on_message(received_data(message))

    def received() -> None:
        frames, protocol.frames = protocol.frames, []
        if protocol.close_sent:
            return  # as uvicorn does: past the close, messages are discarded
        data = frames[0] if len(frames) == 1 else b"".join(frames)
        on_message(data.decode() if protocol.curr_msg_data_type == "text" else data)

    protocol.send_receive_event_to_app = received
    protocol.queue = _DisconnectNotice(on_disconnect)
    # The handshake's request and response, which uvicorn keeps for the socket's life (their
    # headers) and never reads once it is accepted.
    protocol.request = protocol.response = None
    if protocol.read_paused:
        protocol.read_paused = False
        protocol.transport.resume_reading()
    return True


class _DisconnectNotice:
    """Stands in for uvicorn's receive queue once messages are taken directly: what uvicorn
    still queues then is the disconnect (the peer's close, a lost connection, shutdown)."""

    __slots__ = ("on_disconnect",)

    def __init__(self, on_disconnect: Callable[[], None]) -> None:
        self.on_disconnect = on_disconnect

    def put_nowait(self, message: dict) -> None:
        if message["type"] == "websocket.disconnect":
            self.on_disconnect()

    def empty(self) -> bool:
        return True


def received_data(message: dict) -> bytes | str:
    """What a `websocket.receive` message carries: its bytes, or its text."""
    return message["bytes"] if message.get("bytes") is not None else message.get("text") or ""


async def receive_until_disconnect(websocket: WebSocket, on_message: OnMessage) -> None:
    """The ASGI path: passes what each received message carries to `on_message` until the disconnect."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        on_message(received_data(message))

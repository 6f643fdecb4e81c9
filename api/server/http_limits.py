"""uvicorn's h11 protocol with limits on a request's head: its size, its number of headers,
and the time a client may take to send it.

Stock uvicorn waits for a request's head without a deadline (its keep-alive timeout runs only
between requests), so a client sending a header a byte at a time holds its connection for
ever (slowloris); and it answers a head over h11's buffer limit with 400, and takes any number
of headers that fit in it. Here a head larger than `max_header_bytes` or with more than
`max_headers` headers is answered 431 with `{"error": ...}`, and a connection whose head is
not complete `header_timeout_seconds` after its first byte (or after it opened) gets 408 and
is closed. WebSocket handshakes are read by this protocol before the WebSocket protocol takes
the connection, so the same limits hold for them.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

# How long a refused connection is read (and what comes dropped) before it is closed.
LINGER_SECONDS = 2.0


@dataclass(frozen=True)
class HeaderLimits:
    max_header_bytes: int = 64 * 1024
    max_headers: int = 100
    header_timeout_seconds: float = 10.0


class _LimitedConnection:
    """An h11 connection whose parsed requests are refused (a RemoteProtocolError, as h11's
    own limits raise) when they carry too many headers; the status of a refusal is kept for
    the protocol's answer."""

    def __init__(self, connection: h11.Connection, max_headers: int) -> None:
        self._connection = connection
        self._max_headers = max_headers
        self.refusal: tuple[int, str] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    def next_event(self) -> Any:
        try:
            event = self._connection.next_event()
        except h11.RemoteProtocolError as error:
            if error.error_status_hint == HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE:
                self.refusal = (error.error_status_hint, "Request headers too large")
            raise
        if isinstance(event, h11.Request) and len(event.headers) > self._max_headers:
            self.refusal = (HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, f"More than {self._max_headers} headers")
            raise h11.RemoteProtocolError(self.refusal[1], HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)
        return event


class LimitedH11Protocol(H11Protocol):
    def __init__(self, *args: Any, limits: HeaderLimits = HeaderLimits(), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits
        self.conn = _LimitedConnection(h11.Connection(h11.SERVER, limits.max_header_bytes), limits.max_headers)
        self._head_deadline: asyncio.TimerHandle | None = None
        self._lingering = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_received()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            return  # what a refused client still sends is dropped
        if self._head_deadline is None and self.conn.their_state is h11.IDLE:
            self._await_head()  # the next request on a kept-alive connection
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._head_received()

    def _await_head(self) -> None:
        self._head_deadline = self.loop.call_later(self.limits.header_timeout_seconds, self._head_too_slow)

    def _head_received(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_too_slow(self) -> None:
        self._head_deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.write(_raw_response(HTTPStatus.REQUEST_TIMEOUT, "Request headers not received in time"))
            self.transport.close()

    def send_400_response(self, msg: str) -> None:
        refusal = self.conn.refusal
        if refusal is None:
            super().send_400_response(msg)
            return
        # A lingering close: closing with the client's unread bytes in the socket would reset
        # the connection, and the client would lose the answer.
        self.transport.write(_raw_response(*refusal))
        self._lingering = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)


def _raw_response(status: int, message: str) -> bytes:
    """A whole response written without h11, which cannot answer a request it never parsed."""
    body = json.dumps({"error": message}).encode()
    head = (f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n")  # fmt: skip
    return head.encode() + body

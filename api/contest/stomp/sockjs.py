"""A SockJS server (as sockjs-client 1.6.1 expects it) whose sessions carry STOMP.

Below the router's prefix: `GET /info`; per session `/{server}/{session}/websocket` and the
HTTP fallbacks the client walks when WebSocket fails (`xhr_streaming`, `eventsource`, `xhr`
polling, with `xhr_send` for the client's messages); and `/websocket`, raw STOMP over
WebSocket. The wire details are in docs/protocols.md, "SockJS at `/ws`".

A WebSocket session lives as long as its socket. An HTTP session is a `HttpSession` in the
`SessionRegistry`: frames wait in it for the next receiving request, and it is forgotten once
no receiving request has been open for `disconnect_delay_seconds`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import secrets
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.websockets import WebSocket

from api.contest.stomp.application import StompApplication
from api.contest.stomp.session import StompLimits, StompSession
from api.server.connection_caps import Slot
from api.server.origins import OriginPolicy
from api.server.uvicorn_direct import receive_directly, receive_until_disconnect

log = logging.getLogger("peerprep.ws.sockjs")

STOMP_SUBPROTOCOLS = ("v12.stomp", "v11.stomp", "v10.stomp")
NO_CACHE = "no-store, no-cache, no-transform, must-revalidate, max-age=0"
PREFLIGHT_MAX_AGE = str(365 * 24 * 3600)
_SEGMENT = re.compile(r"^[^/.]+$")
_EVENTSOURCE_ESCAPES = str.maketrans({"%": "%25", "\r": "%0D", "\n": "%0A", "\x00": "%00"})


@dataclass(frozen=True)
class SockJSLimits:
    heartbeat_seconds: float = 25.0
    disconnect_delay_seconds: float = 5.0
    # A streaming response ends after this many bytes and the client opens the next one.
    response_limit_bytes: int = 128 * 1024
    # HTTP sessions alive at once; WebSocket sessions are bounded by the server's connections.
    max_sessions: int = 10_000
    # One `xhr_send` body or one WebSocket message, JSON-encoded.
    max_message_bytes: int = 512 * 1024
    # Characters of frames an HTTP session holds for its next receiving request; beyond it STOMP's writer waits.
    pending_bytes: int = 256 * 1024


class SockJSInfo(BaseModel):
    websocket: bool
    origins: list[str]
    cookie_needed: bool
    entropy: int


Resolve = Callable[[HTTPConnection], StompApplication]
# A slot under the socket caps for a new HTTP-transport session (a refused one when over them).
Admit = Callable[[HTTPConnection], Slot]


def message_frame(messages: list[str]) -> str:
    return "a" + json.dumps(messages, separators=(",", ":"))


def close_frame(code: int, reason: str) -> str:
    return "c" + json.dumps([code, reason], separators=(",", ":"))


def decode_messages(payload: str) -> list[str] | None:
    """A client frame: a JSON array of strings (or one bare string); None when it is not."""
    try:
        decoded = json.loads(payload)
    except ValueError:
        return None
    if isinstance(decoded, str):
        return [decoded]
    if isinstance(decoded, list) and all(isinstance(item, str) for item in decoded):
        return decoded
    return None


def valid_segment(value: str) -> bool:
    return bool(_SEGMENT.match(value))


def cors_headers(connection: HTTPConnection) -> dict[str, str]:
    """The CORS answer for a request its origin policy allowed (`SockJSServer.refused`): its own
    origin echoed, since sockjs-client's requests carry credentials and browsers refuse `*` for
    those. A page opened from a file sends `null`, allowed only without a cookie; no cookie
    authenticates here anyway (STOMP authenticates by token)."""
    origin = connection.headers.get("origin")
    return {"Access-Control-Allow-Origin": origin or "*", "Access-Control-Allow-Credentials": "true"}


def preflight(request: Request, methods: str) -> Response:
    headers = {
        **cors_headers(request),
        "Access-Control-Allow-Methods": methods,
        "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
        "Cache-Control": f"public, max-age={PREFLIGHT_MAX_AGE}",
    }
    requested = request.headers.get("access-control-request-headers")
    if requested:
        headers["Access-Control-Allow-Headers"] = requested
    return Response(status_code=204, headers=headers)


def _text_response(status: int, text: str, request: Request) -> Response:
    headers = {**cors_headers(request), "Cache-Control": NO_CACHE}
    return Response(text, status_code=status, media_type="text/plain; charset=UTF-8", headers=headers)


async def serve_stomp(stomp: StompSession, *companions: Coroutine[Any, Any, None]) -> None:
    """Runs a STOMP session with the coroutines feeding it; whichever ends first ends the rest."""
    tasks = [asyncio.create_task(companion) for companion in companions]
    for task in tasks:
        task.add_done_callback(lambda _task: stomp.abort())
    try:
        await stomp.run()
    finally:
        for task in tasks:
            task.cancel()
        for outcome in await asyncio.gather(*tasks, return_exceptions=True):
            if isinstance(outcome, Exception):
                log.debug("a task beside STOMP session %s ended with %r", stomp.session_id, outcome)


class TransportClosed(ConnectionError):
    """Raised to a STOMP writer that sends after the transport was closed."""


class BrokenMessage(Exception):
    """A SockJS WebSocket message the session cannot take: the socket closes with `code`."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


def unpack_message(message: bytes | str, max_bytes: int) -> list[str]:
    """The STOMP texts one SockJS WebSocket message carries (none for an empty one); raises
    BrokenMessage for one over `max_bytes`, or that is not a JSON array of strings in UTF-8."""
    if isinstance(message, bytes):
        try:
            message = message.decode("utf-8")
        except UnicodeDecodeError:
            raise BrokenMessage(3000, "Broken framing.") from None
    if message == "":
        return []
    if len(message) > max_bytes:
        raise BrokenMessage(1009, "Message too big")
    texts = decode_messages(message)
    if texts is None:
        raise BrokenMessage(3000, "Broken framing.")
    return texts


class SockJSWebSocketTransport:
    """STOMP frames as SockJS `a[...]` frames over one WebSocket."""

    __slots__ = ("_heartbeat", "closed", "websocket")

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self.closed = False
        # The timer of the next `h` frame, or the task sending it: no task waits between beats.
        self._heartbeat: asyncio.TimerHandle | asyncio.Task | None = None

    async def send_raw(self, frame: str) -> None:
        if self.closed:
            raise TransportClosed("SockJS WebSocket closed")
        await self.websocket.send_text(frame)

    async def send(self, text: str) -> None:
        await self.send_raw(message_frame([text]))

    async def close(self, code: int = 1000, reason: str = "Normal closure") -> None:
        if self.closed:
            return
        self.closed = True
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        with contextlib.suppress(Exception):
            await self.websocket.send_text(close_frame(code, reason))
        with contextlib.suppress(Exception):
            await self.websocket.close(1000)

    def start_heartbeats(self, period: float, lost: Callable[[], None]) -> None:
        """Sends `h` every `period` seconds until closed; calls `lost()` when one cannot be sent."""
        self._heartbeat = asyncio.get_running_loop().call_later(period, self._beat, period, lost)

    def _beat(self, period: float, lost: Callable[[], None]) -> None:
        self._heartbeat = asyncio.create_task(self._send_heartbeat(period, lost))

    async def _send_heartbeat(self, period: float, lost: Callable[[], None]) -> None:
        try:
            await self.send_raw("h")
        except Exception:
            log.debug("a SockJS heart-beat could not be sent", exc_info=True)
            lost()
            return
        if not self.closed:
            self.start_heartbeats(period, lost)


class RawWebSocketTransport:
    """STOMP frames as plain WebSocket text messages."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self.closed = False

    async def send(self, text: str) -> None:
        if self.closed:
            raise TransportClosed("WebSocket closed")
        await self.websocket.send_text(text)

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(Exception):
            await self.websocket.close(1000)


@dataclass(frozen=True)
class Framing:
    """How one HTTP receiving transport writes SockJS frames into its response."""

    media_type: str
    prelude: bytes
    streaming: bool
    eventsource: bool = False

    def wrap(self, frame: str) -> bytes:
        if self.eventsource:
            return f"data: {frame.translate(_EVENTSOURCE_ESCAPES)}\r\n\r\n".encode()
        return f"{frame}\n".encode()


XHR_POLLING = Framing("application/javascript; charset=UTF-8", b"", streaming=False)
XHR_STREAMING = Framing("application/javascript; charset=UTF-8", b"h" * 2048 + b"\n", streaming=True)
EVENTSOURCE = Framing("text/event-stream; charset=UTF-8", b"\r\n", streaming=True, eventsource=True)


class HttpSession:
    """A SockJS session over the HTTP transports; also the StompTransport of its STOMP session.

    STOMP frames wait in `pending` until a receiving request takes them all as one `a[...]`.
    Only one receiving request may be open at a time; a second gets `c[2010,...]`.
    """

    def __init__(self, session_id: str, limits: SockJSLimits) -> None:
        self.id = session_id
        self.limits = limits
        self.stomp: StompSession | None = None
        self._pending: list[str] = []
        self._pending_bytes = 0
        self._close_frame: str | None = None
        self._opened = False
        self._receiving = False
        self._detached_at = asyncio.get_running_loop().time()
        self._changed = asyncio.Event()
        self._room = asyncio.Event()
        self._attachment = asyncio.Event()

    async def send(self, text: str) -> None:
        while self._pending_bytes >= self.limits.pending_bytes and self._close_frame is None:
            self._room.clear()
            await self._room.wait()
        if self._close_frame is not None:
            raise TransportClosed("SockJS session closed")
        self._pending.append(text)
        self._pending_bytes += len(text)
        self._changed.set()

    async def close(self, code: int = 1000, reason: str = "Normal closure") -> None:
        if self._close_frame is None:
            self._close_frame = close_frame(code, reason)
            self._changed.set()
            self._room.set()

    async def stream(self, framing: Framing) -> AsyncIterator[bytes]:
        """The body of one receiving request."""
        if self._receiving:
            yield framing.prelude + framing.wrap(close_frame(2010, "Another connection still open"))
            return
        self._set_receiving(True)
        try:
            if framing.prelude:
                yield framing.prelude
            if not self._opened:
                self._opened = True
                yield framing.wrap("o")
                if not framing.streaming:
                    return
            written = 0
            while True:
                frame, last = await self._next_frame()
                data = framing.wrap(frame)
                yield data
                written += len(data)
                if last or not framing.streaming or written >= self.limits.response_limit_bytes:
                    return
        finally:
            self._set_receiving(False)

    async def _next_frame(self) -> tuple[str, bool]:
        while True:
            if self._pending:
                messages, self._pending, self._pending_bytes = self._pending, [], 0
                self._room.set()
                return message_frame(messages), False
            if self._close_frame is not None:
                return self._close_frame, True
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), self.limits.heartbeat_seconds)
            except TimeoutError:
                return "h", False

    def _set_receiving(self, receiving: bool) -> None:
        self._receiving = receiving
        if not receiving:
            self._detached_at = asyncio.get_running_loop().time()
        self._attachment.set()

    async def supervise(self, forget: Callable[[str], None]) -> None:
        """Runs the STOMP session; ends it once no receiving request has come for the disconnect delay."""
        assert self.stomp is not None
        runner = asyncio.create_task(self.stomp.run())
        loop = asyncio.get_running_loop()
        try:
            while True:
                self._attachment.clear()
                timeout = None
                if not self._receiving:
                    timeout = self._detached_at + self.limits.disconnect_delay_seconds - loop.time()
                    if timeout <= 0:
                        return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._attachment.wait(), timeout)
        finally:
            forget(self.id)
            self.stomp.abort()
            await asyncio.gather(runner, return_exceptions=True)
            await self.close()


class SessionRegistry:
    """The HTTP-transport sessions of this process, by SockJS session id."""

    def __init__(self, limits: SockJSLimits) -> None:
        self.limits = limits
        self._sessions: dict[str, HttpSession] = {}
        self._supervisors: set[asyncio.Task] = set()

    def __len__(self) -> int:
        return len(self._sessions)

    def get(self, session_id: str) -> HttpSession | None:
        return self._sessions.get(session_id)

    def open(
        self, session_id: str, start: Callable[[HttpSession], StompSession], slot: Slot | None = None
    ) -> HttpSession | None:
        """A new session whose STOMP side `start` creates, holding `slot` (under the socket caps)
        until it ends; None when the registry is full."""
        if len(self._sessions) >= self.limits.max_sessions:
            return None
        session = HttpSession(session_id, self.limits)
        session.stomp = start(session)
        self._sessions[session_id] = session
        supervisor = asyncio.create_task(session.supervise(self._forget))
        if slot is not None:
            supervisor.add_done_callback(lambda _task: slot.release())
        self._supervisors.add(supervisor)
        supervisor.add_done_callback(self._supervisors.discard)
        return session

    def _forget(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)

    async def close(self) -> None:
        supervisors = list(self._supervisors)
        for supervisor in supervisors:
            supervisor.cancel()
        await asyncio.gather(*supervisors, return_exceptions=True)


class _ReceiverResponse(StreamingResponse):
    """A streaming response that closes its generator however the request ends."""

    async def stream_response(self, send) -> None:
        async with contextlib.aclosing(self.body_iterator):
            await super().stream_response(send)


class SockJSServer:
    """The endpoints; `routes.mount_ws` mounts them."""

    def __init__(
        self,
        resolve: Resolve,
        limits: StompLimits,
        sockjs_limits: SockJSLimits,
        origins: OriginPolicy,
        admit: Admit | None = None,
    ) -> None:
        self.resolve = resolve
        self.limits = limits
        self.sockjs_limits = sockjs_limits
        self.origins = origins
        self.admit = admit
        self.sessions = SessionRegistry(sockjs_limits)

    def refused(self, request: Request) -> Response | None:
        """403 for a request from an origin the policy does not allow (its WebSockets are
        refused by `SocketRoutes`), without CORS headers: that page may not read it."""
        if self.origins.allows_request(request.headers):
            return None
        return JSONResponse({"error": "Origin not allowed"}, status_code=403)

    def _stomp_session(self, connection: HTTPConnection, transport) -> StompSession:
        token = connection.query_params.get("token") or None
        return StompSession(self.resolve(connection), transport, self.limits, url_token=token)

    async def info(self, request: Request) -> Response:
        if refusal := self.refused(request):
            return refusal
        body = SockJSInfo(websocket=True, origins=["*:*"], cookie_needed=False, entropy=secrets.randbelow(2**32))
        headers = {**cors_headers(request), "Cache-Control": NO_CACHE}
        return Response(body.model_dump_json(), media_type="application/json; charset=UTF-8", headers=headers)

    async def info_preflight(self, request: Request) -> Response:
        return self.refused(request) or preflight(request, "OPTIONS, GET")

    async def post_preflight(self, request: Request) -> Response:
        return self.refused(request) or preflight(request, "OPTIONS, POST")

    async def websocket(self, websocket: WebSocket, server: str, session: str) -> None:
        if not (valid_segment(server) and valid_segment(session)):
            await self._deny(websocket)
            return
        stomp_application = self.resolve(websocket)
        transport = SockJSWebSocketTransport(websocket)
        try:
            await websocket.accept()
            await transport.send_raw("o")
        except Exception:
            log.debug("SockJS WebSocket went away while opening", exc_info=True)
            return
        token = websocket.query_params.get("token") or None
        stomp = StompSession(stomp_application, transport, self.limits, url_token=token)
        transport.start_heartbeats(self.sockjs_limits.heartbeat_seconds, stomp.abort)
        max_bytes = self.sockjs_limits.max_message_bytes
        closing: list[asyncio.Future] = []

        def take(message: bytes | str) -> None:
            """One received message; a broken one closes the socket in a task, since this may
            run in uvicorn's step, which cannot wait."""
            try:
                texts = unpack_message(message, max_bytes)
            except BrokenMessage as broken:
                if not closing:
                    closing.append(asyncio.ensure_future(transport.close(broken.code, broken.reason)))
                    stomp.abort()
                return
            for text in texts:
                stomp.feed(text)

        if receive_directly(websocket, take, stomp.abort):
            await stomp.run()
        else:
            await serve_stomp(stomp, receive_until_disconnect(websocket, take))
        await asyncio.gather(*closing)

    async def raw_websocket(self, websocket: WebSocket) -> None:
        stomp_application = self.resolve(websocket)
        offered = websocket.scope.get("subprotocols") or []
        try:
            await websocket.accept(subprotocol=next((name for name in STOMP_SUBPROTOCOLS if name in offered), None))
        except Exception:
            log.debug("STOMP WebSocket went away while opening", exc_info=True)
            return
        transport = RawWebSocketTransport(websocket)
        token = websocket.query_params.get("token") or None
        stomp = StompSession(stomp_application, transport, self.limits, url_token=token)
        if receive_directly(websocket, stomp.feed, stomp.abort):
            await stomp.run()
            return
        await serve_stomp(stomp, receive_until_disconnect(websocket, stomp.feed))

    @staticmethod
    async def _deny(websocket: WebSocket) -> None:
        if "websocket.http.response" in websocket.scope.get("extensions", {}):
            await websocket.send_denial_response(Response("Not found", status_code=404, media_type="text/plain"))
        else:
            await websocket.close()

    async def xhr_polling(self, request: Request, server: str, session: str) -> Response:
        return self._receive(request, server, session, XHR_POLLING)

    async def xhr_streaming(self, request: Request, server: str, session: str) -> Response:
        return self._receive(request, server, session, XHR_STREAMING)

    async def eventsource(self, request: Request, server: str, session: str) -> Response:
        return self._receive(request, server, session, EVENTSOURCE)

    def _receive(self, request: Request, server: str, session_id: str, framing: Framing) -> Response:
        if refusal := self.refused(request):
            return refusal
        if not (valid_segment(server) and valid_segment(session_id)):
            return _text_response(404, "Not found", request)
        session = self.sessions.get(session_id)
        if session is None:
            slot = self.admit(request) if self.admit is not None else None
            if slot is not None and slot.refusal is not None:
                return JSONResponse({"error": slot.refusal}, status_code=429, headers=cors_headers(request))
            session = self.sessions.open(session_id, lambda transport: self._stomp_session(request, transport), slot)
            if session is None:
                if slot is not None:
                    slot.release()
                return _text_response(503, "Too many sessions", request)
        headers = {**cors_headers(request), "Cache-Control": NO_CACHE}
        return _ReceiverResponse(session.stream(framing), media_type=framing.media_type, headers=headers)

    async def xhr_send(self, request: Request, server: str, session: str) -> Response:
        if refusal := self.refused(request):
            return refusal
        if not (valid_segment(server) and valid_segment(session)):
            return _text_response(404, "Not found", request)
        http_session = self.sessions.get(session)
        if http_session is None or http_session.stomp is None:
            return _text_response(404, "Not found", request)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > self.sockjs_limits.max_message_bytes:
                return _text_response(413, "Payload too large.", request)
        if not body:
            return _text_response(500, "Payload expected.", request)
        try:
            messages = decode_messages(body.decode("utf-8"))
        except UnicodeDecodeError:
            messages = None
        if messages is None:
            return _text_response(500, "Broken JSON encoding.", request)
        for text in messages:
            http_session.stomp.feed(text)
        return Response(status_code=204, headers={**cors_headers(request), "Cache-Control": NO_CACHE})

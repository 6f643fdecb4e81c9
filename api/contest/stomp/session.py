"""One STOMP connection: the broker side of the protocol, independent of the transport.

The transport (a WebSocket, a SockJS session) pushes what it receives into `feed()` and
runs `run()` for the connection's lifetime; the session answers through `StompTransport`.
Work is split so that nothing a client sends can block or crash another part: `feed()` only
parses and queues; a task handles the queued frames in order (it may wait on the application);
a task writes the bounded outbound queue; one task per subscription pumps its feed; event-loop
timers watch CONNECT and heart-beats. The frame handler and the writer exist only while they
have work: an idle connection holds one task per subscription and no timer task, which is most
of what a socket costs the front. Every failure ends in `_fail` (an ERROR frame, then close) or
`abort` (the peer is gone), never in an exception escaping a task.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from api.contest.stomp.application import Feed, Principal, Refused, StompApplication, Timed
from api.contest.stomp.frames import (
    SUPPORTED_VERSIONS,
    Frame,
    FrameParser,
    ParserLimits,
    StompProtocolError,
    encode_frame,
)
from api.server.outbound import OutboundQueue

log = logging.getLogger("peerprep.ws.stomp")

SERVER_NAME = "peerprep/0.1.0"
ACK_MODES = frozenset({"auto", "client", "client-individual"})
HEARTBEAT = "\n"

Outgoing = tuple[str, Callable[[], None] | None]
"""A frame's text and what to call once the transport took it."""


@dataclass(frozen=True)
class StompLimits:
    """Every bound one STOMP connection lives under; durations of heart-beats in ms as on the wire."""

    max_frame_bytes: int = 64 * 1024
    max_headers: int = 32
    max_header_line_bytes: int = 8 * 1024
    max_subscriptions: int = 32
    # Frames received but not yet handled (the application may be slow to answer a SUBSCRIBE).
    max_pending_frames: int = 64
    # Encoded bytes waiting to be written; a client that reads slower than it is sent to is closed.
    outbound_queue_bytes: int = 1024 * 1024
    heartbeat_send_ms: int = 10_000
    heartbeat_receive_ms: int = 10_000
    # Silence longer than this many client heart-beat periods closes the connection.
    heartbeat_tolerance: float = 2.0
    connect_timeout_seconds: float = 10.0
    # How long the last frames (ERROR, RECEIPT) may take to flush before the transport is closed.
    close_timeout_seconds: float = 5.0

    def parser_limits(self) -> ParserLimits:
        return ParserLimits(self.max_frame_bytes, self.max_headers, self.max_header_line_bytes)


class StompTransport(Protocol):
    async def send(self, text: str) -> None:
        """Deliver one STOMP frame or heart-beat as one message; raise once the peer is gone."""

    async def close(self) -> None:
        """Close the connection after what was sent; may be called more than once."""


class StompError(Exception):
    """A client mistake the session answers with an ERROR frame carrying `message` (and `headers`)."""

    def __init__(self, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}


@dataclass(slots=True)
class _Subscription:
    id: str
    destination: str
    ack: str
    feed: Feed
    pump: asyncio.Task | None = None


def negotiate_version(frame: Frame) -> str | None:
    """The highest version both sides speak; a CONNECT without `accept-version` is STOMP 1.0."""
    offered = {part.strip() for part in (frame.header("accept-version") or "1.0").split(",")}
    return next((version for version in SUPPORTED_VERSIONS if version in offered), None)


def parse_heartbeat(value: str | None) -> tuple[int, int]:
    if value is None:
        return 0, 0
    parts = value.split(",")
    if len(parts) != 2 or not all(part.strip().isascii() and part.strip().isdigit() for part in parts):
        raise StompError(f"Invalid heart-beat header {value!r}")
    return int(parts[0]), int(parts[1])


def heartbeat_periods(limits: StompLimits, client_sends: int, client_wants: int) -> tuple[float | None, float | None]:
    """Seconds between our beats and between the client's, None where that direction is off.

    Each direction beats at the slower of what its sender offers and its receiver wants.
    """
    send = max(limits.heartbeat_send_ms, client_wants) if limits.heartbeat_send_ms and client_wants else 0
    receive = max(limits.heartbeat_receive_ms, client_sends) if limits.heartbeat_receive_ms and client_sends else 0
    return (send / 1000 or None), (receive / 1000 or None)


def bearer_token(frame: Frame) -> str | None:
    """The JWT of an `Authorization: Bearer <jwt>` header, whatever the header name's case."""
    for name, value in frame.headers:
        if name.lower() == "authorization":
            scheme, _, token = value.strip().partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            return None
    return None


def _one_line(text: str) -> str:
    return " ".join(text.splitlines()) or "error"


class StompSession:
    __slots__ = (
        "_aborted",
        "_beat_timer",
        "_closing",
        "_connect_seen",
        "_connect_timer",
        "_handler",
        "_inbound",
        "_last_received",
        "_message_ids",
        "_outbound",
        "_parser",
        "_stopped",
        "_subscriptions",
        "_tasks",
        "_unwatch_login",
        "_watch_timer",
        "application",
        "limits",
        "principal",
        "session_id",
        "transport",
        "url_token",
        "version",
    )

    def __init__(
        self,
        application: StompApplication,
        transport: StompTransport,
        limits: StompLimits | None = None,
        *,
        url_token: str | None = None,
        session_id: str | None = None,
    ) -> None:
        self.application = application
        self.transport = transport
        self.limits = limits or StompLimits()
        self.url_token = url_token
        # CONNECTED's `session` header names the front process first: with several workers or
        # fronts, an operator (and a test) can tell which process holds a socket.
        self.session_id = session_id or f"{os.getpid()}-{secrets.token_hex(8)}"
        self.principal: Principal | None = None
        self.version: str | None = None
        self._parser = FrameParser(self.limits.parser_limits())
        self._connect_seen = False
        # A list, not a deque: at most `max_pending_frames`, nearly always none, and an empty deque is 760 bytes.
        self._inbound: list[Frame] = []
        self._handler: asyncio.Task | None = None
        self._outbound: OutboundQueue[Outgoing] = OutboundQueue(
            self.limits.outbound_queue_bytes, self._transmit, self._transport_lost
        )
        self._subscriptions: dict[str, _Subscription] = {}
        self._message_ids = itertools.count(1)
        self._tasks: set[asyncio.Task] = set()
        self._closing = False
        # What `run()` waits on; a bare future, not an Event (an Event holds a deque of waiters).
        self._stopped: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._aborted = False
        self._last_received = asyncio.get_running_loop().time()
        self._connect_timer: asyncio.TimerHandle | None = None
        self._beat_timer: asyncio.TimerHandle | None = None
        self._watch_timer: asyncio.TimerHandle | None = None
        self._unwatch_login: Callable[[], None] | None = None

    @property
    def closed(self) -> bool:
        return self._closing

    def feed(self, data: bytes | str) -> None:
        """Takes what the transport received: any number of whole or partial frames. Never raises."""
        if self._closing:
            return
        self._last_received = asyncio.get_running_loop().time()
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogatepass")
        self._parser.feed(data)
        try:
            while (frame := self._parser.next_frame()) is not None:
                if frame.command in ("CONNECT", "STOMP") and not self._connect_seen:
                    self._connect_seen = True
                    self._parser.version = negotiate_version(frame) or "1.2"
                if len(self._inbound) >= self.limits.max_pending_frames:
                    self._fail(f"More than {self.limits.max_pending_frames} frames waiting to be handled")
                    return
                self._inbound.append(frame)
        except StompProtocolError as error:
            self._fail(str(error))
            return
        if self._inbound and self._handler is None:
            self._handler = self._spawn(self._handle_frames())

    def abort(self) -> None:
        """The peer went away: stop without writing anything more."""
        if self._closing:
            return
        self._aborted = True
        self._outbound.clear()
        self._stop()

    def _stop(self) -> None:
        self._closing = True
        if not self._stopped.done():
            self._stopped.set_result(None)

    async def run(self) -> None:
        """Serves the connection until it closes; then every task, feed and the transport are closed."""
        timeout = self.limits.connect_timeout_seconds
        self._connect_timer = asyncio.get_running_loop().call_later(timeout, self._connect_timed_out, timeout)
        try:
            await self._stopped
        finally:
            if not self._closing:
                self.abort()
            await self._release()
            await self._outbound.finish(None if self._aborted else self.limits.close_timeout_seconds)
            await self._close_transport()

    def _login_ended(self) -> None:
        self._unwatch_login = None
        self._fail("Your login has ended; log in again")

    async def _release(self) -> None:
        if self._unwatch_login is not None:
            self._unwatch_login()
            self._unwatch_login = None
        for timer in (self._connect_timer, self._beat_timer, self._watch_timer):
            if timer is not None:
                timer.cancel()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for subscription in list(self._subscriptions.values()):
            self._drop(subscription)

    async def _close_transport(self) -> None:
        try:
            await self.transport.close()
        except Exception:
            log.debug("closing the transport of STOMP session %s failed", self.session_id, exc_info=True)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # Output

    def _send(self, frame: Frame, written: Callable[[], None] | None = None) -> None:
        self._enqueue(encode_frame(frame, self.version or "1.2"), written)

    def _enqueue(self, data: bytes, written: Callable[[], None] | None = None) -> None:
        if self._closing:
            return
        if not self._outbound.offer((data.decode("utf-8"), written), len(data)):
            self._fail("Client too slow: outbound queue overflow")
            return
        self._outbound.start_writer()

    async def _transmit(self, outgoing: Outgoing) -> None:
        text, written = outgoing
        await self.transport.send(text)
        if written is not None:
            written()

    def _transport_lost(self, error: Exception) -> None:
        log.debug("STOMP session %s lost its transport", self.session_id, exc_info=error)
        self.abort()

    def _fail(self, message: str, headers: dict[str, str] | None = None) -> None:
        """Sends ERROR (after what is already queued) and closes the connection.

        Before CONNECTED (and in STOMP 1.0) headers are not escaped, so line breaks become spaces.
        """
        if self._closing:
            return
        version = self.version or "1.0"
        pairs = [("message", message), *(headers or {}).items()]
        if version == "1.0":
            pairs = [(name, _one_line(value)) for name, value in pairs]
        error = encode_frame(Frame("ERROR", tuple(pairs)), version)
        self._outbound.push((error.decode("utf-8"), None), len(error))
        self._outbound.start_writer()
        self._stop()

    # Input

    async def _handle_frames(self) -> None:
        """Handles the queued frames in order, then ends (`feed` starts it again for the next ones)."""
        try:
            while self._inbound:
                frame = self._inbound.pop(0)
                receipt = frame.header("receipt")
                tied = {"receipt-id": receipt} if receipt is not None else {}
                try:
                    await self._handle(frame)
                except StompError as error:
                    self._fail(error.message, {**error.headers, **tied})
                except Refused as refusal:
                    self._fail(refusal.message, tied)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("STOMP session %s failed on a %s frame", self.session_id, frame.command)
                    self._fail("Internal server error", tied)
                if self._closing:
                    return
                # A new subscription's pump runs only once this task awaits: its first MESSAGE follows the RECEIPT.
                if receipt is not None:
                    self._send(Frame("RECEIPT", (("receipt-id", receipt),)))
                if frame.command == "DISCONNECT":
                    # Closes the connection once what is queued (a RECEIPT) has been written.
                    self._stop()
                    return
        finally:
            self._handler = None

    async def _handle(self, frame: Frame) -> None:
        command = frame.command
        if command in ("CONNECT", "STOMP"):
            if self.principal is not None:
                raise StompError("Already connected")
            await self._connect(frame)
            return
        if self.principal is None:
            raise StompError(f"Expected CONNECT, got {command[:32]!r}")
        if command == "SUBSCRIBE":
            await self._subscribe(frame)
        elif command == "UNSUBSCRIBE":
            subscription = self._subscriptions.get(self._required(frame, "id"))
            if subscription is None:
                raise StompError(f"No subscription with id {frame.header('id')!r}")
            self._drop(subscription)
        elif command in ("DISCONNECT", "ACK", "NACK"):
            return
        elif command == "SEND":
            raise StompError("No destination accepts SEND")
        elif command in ("BEGIN", "COMMIT", "ABORT"):
            raise StompError("Transactions are not supported")
        else:
            raise StompError(f"Unknown command {command[:32]!r}")

    @staticmethod
    def _required(frame: Frame, name: str) -> str:
        value = frame.header(name)
        if value is None or value == "":
            raise StompError(f"{frame.command} needs a {name} header")
        return value

    async def _connect(self, frame: Frame) -> None:
        version = negotiate_version(frame)
        if version is None:
            raise StompError(
                f"Supported protocol versions are {' '.join(SUPPORTED_VERSIONS)}",
                {"version": ",".join(SUPPORTED_VERSIONS)},
            )
        client_sends, client_wants = parse_heartbeat(frame.header("heart-beat")) if version != "1.0" else (0, 0)
        principal = await self.application.authenticate(bearer_token(frame) or self.url_token)
        self.principal, self.version = principal, version
        if principal.login is not None:
            self._unwatch_login = principal.login.on_end(self._login_ended)
        headers = [("version", version)]
        limits = self.limits
        if version != "1.0":
            headers.append(("heart-beat", f"{limits.heartbeat_send_ms},{limits.heartbeat_receive_ms}"))
        headers += [("server", SERVER_NAME), ("session", self.session_id)]
        self._send(Frame("CONNECTED", tuple(headers)))
        if self._connect_timer is not None:
            self._connect_timer.cancel()
        send_period, receive_period = heartbeat_periods(limits, client_sends, client_wants)
        if send_period:
            self._beat_timer = asyncio.get_running_loop().call_later(send_period, self._beat, send_period)
        if receive_period:
            self._watch(receive_period * limits.heartbeat_tolerance)

    async def _subscribe(self, frame: Frame) -> None:
        subscription_id = self._required(frame, "id")
        destination = self._required(frame, "destination")
        ack = frame.header("ack") or "auto"
        if subscription_id in self._subscriptions:
            raise StompError(f"Subscription id {subscription_id!r} is already in use")
        if len(self._subscriptions) >= self.limits.max_subscriptions:
            raise StompError(f"More than {self.limits.max_subscriptions} subscriptions")
        if ack not in ACK_MODES:
            raise StompError(f"Invalid ack mode {ack!r}")
        assert self.principal is not None
        feed = await self.application.subscribe(self.principal, destination)
        if self._closing:
            feed.close()
            return
        subscription = _Subscription(subscription_id, destination, ack, feed)
        self._subscriptions[subscription_id] = subscription
        subscription.pump = self._spawn(self._pump(subscription))

    def _drop(self, subscription: _Subscription) -> None:
        if self._subscriptions.pop(subscription.id, None) is None:
            return
        if subscription.pump is not None:
            subscription.pump.cancel()
        try:
            subscription.feed.close()
        except Exception:
            log.exception("closing the feed of %s failed", subscription.destination)

    async def _pump(self, subscription: _Subscription) -> None:
        try:
            while (body := await subscription.feed.next()) is not None:
                self._deliver(subscription, body)
                # Else the last body (a whole room state) stays alive while the feed waits for the next.
                del body
        except asyncio.CancelledError:
            raise
        except Refused as refusal:
            self._fail(refusal.message)
        except Exception:
            log.exception("the feed of %s failed", subscription.destination)
            self._fail(f"Subscription {subscription.id} failed")

    def _deliver(self, subscription: _Subscription, body: str | Timed) -> None:
        written = None
        if isinstance(body, Timed):
            body, written = body.body, body.written
        if not isinstance(body, str):
            raise TypeError(f"feed yielded {type(body).__name__}, not str")
        message_id = f"{self.session_id}-{next(self._message_ids)}"
        headers = [
            ("subscription", subscription.id),
            ("message-id", message_id),
            ("destination", subscription.destination),
            ("content-type", "application/json"),
        ]
        if subscription.ack != "auto":
            headers.append(("ack", message_id))
        self._send(Frame("MESSAGE", tuple(headers), body.encode("utf-8")), written)

    # Timers (call_later: a sleeping task per timer would cost a task and its frames per connection)

    def _connect_timed_out(self, timeout: float) -> None:
        """Bounds the time to CONNECTED, so a slow authentication cannot hold a connection open either."""
        if self.principal is None:
            self._fail(
                f"No CONNECT frame within {timeout:g} s"
                if not self._connect_seen
                else f"CONNECT took over {timeout:g} s"
            )

    def _beat(self, period: float) -> None:
        self._enqueue(HEARTBEAT.encode())
        if not self._closing:
            self._beat_timer = asyncio.get_running_loop().call_later(period, self._beat, period)

    def _watch(self, allowed: float) -> None:
        """Closes the connection once the client has been silent for `allowed` seconds."""
        loop = asyncio.get_running_loop()
        silent = loop.time() - self._last_received
        if silent >= allowed:
            self._fail("heart-beat missed")
            return
        self._watch_timer = loop.call_later(allowed - silent, self._watch, allowed)

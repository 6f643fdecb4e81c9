"""What both collab protocols share: the limits, the transport, and one connection's lifetime.

The route pushes each received message into `feed()` (which never raises or waits), from
uvicorn's protocol or a reader task, and runs `run()` for the socket's lifetime; the
disconnect comes as `abort()`. Subclasses queue frames and handle them in their
own tasks, started with `_spawn`; a task that fails closes the connection with 4205 and its
error is logged, never left unobserved. A frame with nothing queued ahead of it is written at
once when the socket can take it; the others wait in the bounded outbound queue, which a writer
task, started when one waits, sends in order. However the connection ends, `run()` cancels every
task, closes the links still open (`_take_links`) and waits for every link close, flushes what
is queued (unless the peer is gone) and closes the transport.

Thousands of these live in one front, so nothing is held that is not in use: no Event (each
holds a ~760-byte deque of waiters), no task waiting for work that has not come.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from api.collab.ws.application import CollabApplication, DocumentLink, Handled
from api.collab.ws.encoding import DecodeError
from api.server.outbound import OutboundQueue

log = logging.getLogger("peerprep.collab_ws")

# Close codes shared by both protocols (@hocuspocus/common names them).
RESET_CONNECTION = 4205
MESSAGE_TOO_BIG = 1009
NORMAL_CLOSURE = 1000
# RFC 6455: a close reason is at most 123 bytes of UTF-8.
MAX_CLOSE_REASON_BYTES = 123


@dataclass(frozen=True)
class CollabLimits:
    """Every bound one collab socket lives under."""

    # One received WebSocket message (larger: closed with 1009, or 4413 on y-websocket).
    max_frame_bytes: int = 1024 * 1024
    # Documents (addresses) on one Hocuspocus socket, those still waiting for Auth included
    # (server 4.7 allows 100 pending ones); one more closes the socket with 4205.
    max_documents: int = 32
    # Frames received but not handled yet, those held until their document's Auth included
    # (server 4.7: 1000 frames, 5 MiB before Auth); more closes the socket with 4205.
    max_queued_frames: int = 1000
    max_queued_bytes: int = 5 * 1024 * 1024
    # Bytes waiting to be written; a client that reads slower than it is sent to is closed (4205).
    outbound_queue_bytes: int = 8 * 1024 * 1024
    # Hocuspocus: a bare Ping (09) this often; the provider answers Pong (0a).
    ping_interval_seconds: float = 15.0
    # y-websocket: an empty awareness update after this long without sending anything, since the
    # client drops a socket silent for 30 s and has no ping.
    keepalive_seconds: float = 15.0
    # Nothing received for this long closes the socket. On Hocuspocus, until a document has been
    # authenticated, the time counts from the upgrade (traffic cannot extend it), as in server 4.7.
    idle_timeout_seconds: float = 60.0
    # How long the last frames may take to flush, and a link's close() may take, at the end.
    close_timeout_seconds: float = 5.0


class CollabTransport(Protocol):
    def write_now(self, data: bytes) -> bool:
        """Write one binary message at once if the socket can take it without waiting; False: `send` it."""

    async def send(self, data: bytes) -> None:
        """Send one binary message; raise once the peer is gone."""

    async def close(self, code: int, reason: str) -> None:
        """Close after what was sent; may be called more than once."""


def close_reason(text: str) -> str:
    """`text` cut to what a close frame can carry, on a character boundary."""
    return text.encode("utf-8")[:MAX_CLOSE_REASON_BYTES].decode("utf-8", "ignore")


class CollabConnection:
    """The lifetime of one socket; subclasses implement `_receive`, `_start` and `_take_links`."""

    protocol = "collab"
    # Close codes the subclass may change: an undecodable frame, silence, a frame above the limit.
    malformed_code = 4401
    idle_code = 4408
    too_big_code = MESSAGE_TOO_BIG

    def __init__(
        self,
        application: CollabApplication,
        transport: CollabTransport,
        limits: CollabLimits | None = None,
        *,
        connection_id: str | None = None,
    ) -> None:
        self.application = application
        self.transport = transport
        self.limits = limits or CollabLimits()
        self.connection_id = connection_id or secrets.token_hex(6)
        self.close_code: int | None = None
        self.close_reason = ""
        self._loop = asyncio.get_running_loop()
        self._opened_at = self._last_received = self._last_sent = self._loop.time()
        self._outbound: OutboundQueue[bytes] = OutboundQueue(
            self.limits.outbound_queue_bytes, transport.send, self._transport_lost
        )
        self._queued_frames = 0
        self._queued_bytes = 0
        self._tasks: set[asyncio.Task] = set()
        # The idle watch and keep-alive are timers, not tasks: a task would cost every socket memory.
        self._timers: dict[str, asyncio.TimerHandle] = {}
        # Link closes run as tasks of their own, never cancelled, so a document is always left.
        self._link_closes: set[asyncio.Task] = set()
        self._stopping = False
        # What `run()` waits on.
        self._stopped: asyncio.Future[None] = self._loop.create_future()
        self._aborted = False

    @property
    def closed(self) -> bool:
        return self._stopping

    def feed(self, data: bytes) -> None:
        """Takes one binary message from the client. Never raises."""
        if self._stopping:
            return
        self._last_received = self._loop.time()
        if len(data) > self.limits.max_frame_bytes:
            self._close(self.too_big_code, f"Message Too Big: over {self.limits.max_frame_bytes} bytes")
            return
        try:
            self._receive(data)
        except DecodeError as error:
            log.debug("%s %s: malformed frame: %s", self.protocol, self.connection_id, error)
            self._close(self.malformed_code, f"Malformed frame: {error}")

    def feed_text(self, _text: str) -> None:
        """A text message, which neither protocol has."""
        if not self._stopping:
            self._close(self.malformed_code, "Malformed frame: text messages are not part of the protocol")

    def abort(self) -> None:
        """The peer went away: stop without writing anything more."""
        if self._stopping:
            return
        self._aborted = True
        self._outbound.clear()
        self._stop()

    def _stop(self) -> None:
        self._stopping = True
        if not self._stopped.done():
            self._stopped.set_result(None)

    async def run(self) -> None:
        """Serves the socket until it closes; then every task, link and the transport are closed."""
        self._check_idle()
        self._start()
        try:
            await self._stopped
        finally:
            if not self._stopping:
                self.abort()
            for timer in self._timers.values():
                timer.cancel()
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for link in self._take_links():
                self._schedule_link_close(link)
            await asyncio.gather(*self._link_closes)
            await self._outbound.finish(None if self._aborted else self.limits.close_timeout_seconds)
            try:
                await self.transport.close(self.close_code or NORMAL_CLOSURE, self.close_reason)
            except Exception:
                log.debug("closing the transport of %s %s failed", self.protocol, self.connection_id, exc_info=True)

    # For subclasses

    def _receive(self, data: bytes) -> None:
        """Parse and queue one message; raise DecodeError when it is malformed."""
        raise NotImplementedError

    def _start(self) -> None:
        """Spawn the connection's tasks."""
        raise NotImplementedError

    def _take_links(self) -> list[DocumentLink]:
        """The links still open, forgotten; called once every task has ended, to close them."""
        raise NotImplementedError

    def _idle_since(self) -> float:
        return self._last_received

    def _close(self, code: int, reason: str) -> None:
        """Closes the socket with `code` once what is already queued has been written."""
        if self._stopping:
            return
        self.close_code, self.close_reason = code, close_reason(reason)
        self._stop()

    def _send(self, data: bytes) -> None:
        self._last_sent = self._loop.time()
        if self._stopping:
            return
        # Most frames find nothing queued ahead of them and go out in this step, not the writer's.
        if self._outbound.idle and self.transport.write_now(data):
            return
        if not self._outbound.offer(data, len(data)):
            self._close(RESET_CONNECTION, "Client too slow: outbound queue overflow")
            return
        self._outbound.start_writer()

    def _handle_now(self, link: DocumentLink, frame: bytes, deliver: Callable[[Handled], None]) -> bool:
        """Has the link handle `frame` in this step if it can (`DocumentLink.handle_now`); False:
        queue it for the connection's task. A link that fails resets the connection, as a
        failing task does."""
        try:
            handled = link.handle_now(frame)
        except Exception:
            log.exception("%s %s failed", self.protocol, self.connection_id)
            self._close(RESET_CONNECTION, "Reset Connection")
            return True
        if handled is None:
            return False
        deliver(handled)
        return True

    def _feed_broke(self, error: Exception) -> None:
        """A link's feed of document frames broke (say, the front fell behind its session)."""
        log.info("%s %s: the document feed broke: %r", self.protocol, self.connection_id, error)
        self._close(RESET_CONNECTION, "Reset Connection")

    def _reserve(self, size: int) -> bool:
        """Counts a received frame until `_release`; False (and the socket closing) past the limits."""
        if (
            self._queued_frames + 1 > self.limits.max_queued_frames
            or self._queued_bytes + size > self.limits.max_queued_bytes
        ):
            self._close(RESET_CONNECTION, "Too many frames waiting to be handled")
            return False
        self._queued_frames += 1
        self._queued_bytes += size
        return True

    def _release(self, size: int) -> None:
        self._queued_frames -= 1
        self._queued_bytes -= size

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if task.cancelled() or task.exception() is None:
            return
        log.error("%s %s failed", self.protocol, self.connection_id, exc_info=task.exception())
        self._close(RESET_CONNECTION, "Reset Connection")

    async def _close_link(self, link: DocumentLink) -> None:
        """Leaves a document; the close finishes (within the close timeout) even if the caller is cancelled."""
        await asyncio.shield(self._schedule_link_close(link))

    def _schedule_link_close(self, link: DocumentLink) -> asyncio.Task:
        task = asyncio.create_task(self._run_link_close(link))
        self._link_closes.add(task)
        task.add_done_callback(self._link_closes.discard)
        return task

    async def _run_link_close(self, link: DocumentLink) -> None:
        try:
            await asyncio.wait_for(link.close(), self.limits.close_timeout_seconds)
        except Exception:
            log.exception("%s %s: closing a document link failed", self.protocol, self.connection_id)

    def _at(self, name: str, delay: float, callback: Callable[[], None]) -> None:
        """Runs `callback` after `delay` seconds, unless the connection has stopped by then."""
        if not self._stopping:
            self._timers[name] = self._loop.call_later(delay, callback)

    def _keep_alive(self, interval: float, frames: Callable[[], Sequence[bytes]], *, when_quiet: bool) -> None:
        """Sends `frames()` every `interval`, or only after `interval` without sending when `when_quiet`."""
        last = self._loop.time()

        def tick() -> None:
            nonlocal last
            now = self._loop.time()
            due = (self._last_sent if when_quiet else last) + interval
            if now < due:
                self._at("keep-alive", due - now, tick)
                return
            for frame in frames():
                self._send(frame)
            last = now
            self._at("keep-alive", interval, tick)

        self._at("keep-alive", interval, tick)

    def _check_idle(self) -> None:
        timeout = self.limits.idle_timeout_seconds
        silent = self._loop.time() - self._idle_since()
        if silent >= timeout:
            self._close(self.idle_code, "Connection Timeout")
        else:
            self._at("idle", timeout - silent, self._check_idle)

    def _transport_lost(self, error: Exception) -> None:
        log.debug("%s %s lost its transport", self.protocol, self.connection_id, exc_info=error)
        self.abort()

"""The collab sessions as a `CollabApplication`: who may open a document, and how the
connections of one session on this front share it.

A `SessionRelay` holds one session's connections on this front. A client's update or
awareness frame goes at once to the front's other connections of the session (Yjs updates
commute and apply idempotently, so the relay needs no document), then joins the relay's
queue to the session actor: one `DocumentBatch` in flight at a time, carrying every frame
queued meanwhile, in order; the front sends the due batches of all its sessions together,
so one Ray call per host carries many sessions' frames. A batch is due `flush_delay` after the
first frame that someone waits for: an open, a sync step 1 or awareness query (its answer), a
close, or a relayed frame while a connection on another front (or one that relays nothing)
needs the actor to publish it. While the actor's `fronts` events say that every connection of
the session is on this front, relayed frames wait up to `local_flush_delay`, so that one actor
message carries several of them: nobody else needs them sooner (Hocuspocus, likewise, stores
a document 2 s after its last change by default). The sync status a Hocuspocus
client counts is sent once the front has relayed the update, as Hocuspocus sends it once its
in-memory document has the update (it stores documents later, debounced); should the actor
refuse a relayed frame, the connection that sent it is reset, and its client resyncs.
Sync step 1 and awareness queries travel the same queue, so their answers include every
frame relayed before them; every REST call on a session first hands the actor what this front
holds of it (`SessionDocuments.settle`), so the code it reads or stores is the clients'.

The relay's one bus subscription to `collab:{id}` brings what the actor publishes for other
fronts (it skips frames marked with this front as their origin, which it relayed already)
and the session's end. The subscription is confirmed before the first connection opens, and
a connection joins the relay in the same step as its `OpenDocument` joins the queue, so no
frame is missed between the actor's answer and the relay's.
"""

from __future__ import annotations

import asyncio
import base64
import re
import secrets
from collections.abc import Callable
from typing import Any

from starlette.requests import HTTPConnection

from actors.collab.session import (
    AWARENESS,
    SYNC,
    SYNC_STEP1,
    CloseDocument,
    DocumentBatch,
    DocumentFrame,
    FrameResult,
    GetSession,
    OpenDocument,
    SessionClosed,
    SessionNotFound,
    session_actor_id,
    session_topic,
)
from actors.events.subscriptions import Overflow, Subscription, SubscriptionClosed
from api.collab.ws.application import Denied, Grant, Handled
from api.collab.ws.routes import collab_socket_routes
from api.core.live_sessions import LOGIN_ENDED
from api.core.security import InvalidToken
from api.core.services import Services
from api.server.origins import OriginPolicy
from api.server.socket_routes import SocketRoute

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{1,36}$")


def _relayed(frame: bytes) -> bool:
    """Frames every other connection gets as they are: updates, sync step 2, awareness."""
    if not frame:
        return False
    if frame[0] == SYNC:
        return len(frame) > 1 and frame[1] != SYNC_STEP1
    return frame[0] == AWARENESS


# The answer to a relayed frame: an update or sync step 2 (a sync status), or awareness (nothing).
RELAYED_SYNC = Handled(applied=True)
RELAYED_AWARENESS = Handled()


def _as_handled(result: Any) -> Any:
    if isinstance(result, FrameResult):
        return Handled(tuple(result.replies), result.applied)
    return result


class SessionLink:
    """One connection's attachment to its session's relay. Frames wait in its inbox until the
    connection listens; from then on they go straight to it."""

    def __init__(self, relay: SessionRelay, connection: str, inbox_limit: int) -> None:
        self.relay = relay
        self.connection = connection
        self.inbox_limit = inbox_limit
        # A list, not a deque: a few frames at most (the current awareness), and none once the
        # connection listens; an empty deque is ~760 bytes.
        self.inbox: list[bytes] = []
        self.ended = False
        self.reset_reason: str | None = None
        self.denied_reason: str | None = None
        self.closed = False
        self.unwatch_login: Callable[[], None] | None = None
        self._deliver: Callable[[bytes], None] | None = None
        self._ended: Callable[[Exception | None], None] | None = None

    def deliver(self, frames: list[bytes] | tuple[bytes, ...]) -> None:
        if self.ended or self.closed:
            return
        if self._deliver is not None:
            for frame in frames:
                self._deliver(frame)
            return
        if len(self.inbox) + len(frames) > self.inbox_limit:
            # Fell behind: reset the socket so the client reconnects and resyncs; dropping a Yjs
            # update would leave the client waiting for it.
            self.inbox.clear()
            self.finish(reset=f"more than {self.inbox_limit} frames waiting")
            return
        self.inbox.extend(frames)

    def finish(self, reset: str | None = None) -> None:
        """No more frames: the session ended, or the feed broke (`reset` says why)."""
        if self.ended:
            return
        self.ended = True
        self.reset_reason = reset
        self._stop_watching_login()
        if self._ended is not None:
            self._ended(self._outcome())

    def withdraw(self, reason: str) -> None:
        """No more frames: the connection's grant is gone (its login ended)."""
        if not self.ended:
            self.denied_reason = reason
            self.finish()

    def _stop_watching_login(self) -> None:
        if self.unwatch_login is not None:
            self.unwatch_login()
            self.unwatch_login = None

    def listen(self, deliver: Callable[[bytes], None], ended: Callable[[Exception | None], None]) -> None:
        self._deliver, self._ended = deliver, ended
        waiting, self.inbox = self.inbox, []
        for frame in waiting:
            deliver(frame)
        if self.ended:
            ended(self._outcome())

    def _outcome(self) -> Exception | None:
        if self.denied_reason is not None:
            return Denied(self.denied_reason)
        if self.reset_reason is None:
            return None
        return ConnectionResetError(f"collab feed ended: {self.reset_reason}")

    async def handle(self, frame: bytes) -> Handled:
        return await self.relay.handle(self, frame)

    def handle_now(self, frame: bytes) -> Handled | None:
        return self.relay.handle_now(self, frame)

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._stop_watching_login()
        await self.relay.detach(self)


class SessionRelay:
    """One session's connections on this front, its bus subscription and its queue to the actor."""

    def __init__(self, documents: SessionDocuments, session_id: str) -> None:
        self.documents = documents
        self.session_id = session_id
        self.topic = session_topic(session_id)
        self.links: set[SessionLink] = set()
        self.started: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.subscription: Subscription | None = None
        # What waits for the actor: with the future of its answer, or the link that relayed it.
        self._queue: list[tuple[Any, asyncio.Future | SessionLink]] = []
        self._queue_prompt = False  # something queued is waited for
        # Made when the queue is full and someone waits for room; resolved by the next batch.
        self._room: asyncio.Future[None] | None = None
        self._flushing: asyncio.Task | None = None
        self._scheduled: set[bool] = set()  # the flushes this relay waits for: prompt (True), lazy
        # Whether every connection of the session is on this front (the actor's `fronts` events);
        # until the first event says so, assume not.
        self.alone = False
        self._pump: asyncio.Task | None = None
        self.stopped = False

    @property
    def queued(self) -> int:
        """Items waiting for the next batch to the actor."""
        return len(self._queue)

    @property
    def sending(self) -> bool:
        """A batch is on its way to the actor."""
        return self._flushing is not None

    async def start(self) -> None:
        """Subscribes; the outcome, success or error, is `started`'s, for every connection waiting on it."""
        try:
            self.subscription = await self.documents.services.actors.bus.subscribe(
                self.topic, overflow=Overflow.DISCONNECT
            )
        except asyncio.CancelledError:
            self.started.set_exception(ConnectionResetError("the front stopped while subscribing"))
            self.stop()
            raise
        except Exception as error:
            self.started.set_exception(error)
            self.stop()
            return
        self._pump = asyncio.create_task(self._read_feed())
        self.started.set_result(None)

    def stop(self) -> None:
        """Forget the relay; frames already queued still reach the actor."""
        if self.stopped:
            return
        self.stopped = True
        self.documents.forget(self)
        if self.subscription is not None:
            self.subscription.close()
        if self._pump is not None:
            self._pump.cancel()

    async def attach(self, connection: str, user_id: int) -> SessionLink:
        link = SessionLink(self, connection, self.documents.inbox_limit)
        await self._wait_for_room()
        self.links.add(link)
        opening = self._enqueue(OpenDocument(connection, user_id, self.documents.front))
        try:
            first = await opening
        except BaseException:
            self.links.discard(link)
            self._stop_if_unused()
            raise
        link.inbox[:0] = first
        return link

    async def detach(self, link: SessionLink) -> None:
        self.links.discard(link)
        try:
            await self._enqueue(CloseDocument(link.connection))
        except (SessionClosed, SessionNotFound):
            pass
        finally:
            self._stop_if_unused()

    async def handle(self, link: SessionLink, frame: bytes) -> Handled:
        await self._wait_for_room()
        handled = self.handle_now(link, frame)
        if handled is not None:
            return handled
        return await self._enqueue(DocumentFrame(link.connection, frame))

    def handle_now(self, link: SessionLink, frame: bytes) -> Handled | None:
        """Relays an update or awareness frame to the other connections at once and queues it for
        the actor; None for any other frame, or when the queue is full."""
        if not _relayed(frame) or len(self._queue) >= self.documents.pending_limit:
            return None
        for other in self.links:
            if other is not link:
                other.deliver((frame,))
        self._queue.append((DocumentFrame(link.connection, frame), link))
        self._request_flush()
        return RELAYED_SYNC if frame[0] == SYNC else RELAYED_AWARENESS

    def _stop_if_unused(self) -> None:
        if not self.links:
            self.stop()

    async def _wait_for_room(self) -> None:
        while len(self._queue) >= self.documents.pending_limit:
            if self._room is None:
                self._room = asyncio.get_running_loop().create_future()
            await asyncio.shield(self._room)

    def _enqueue(self, item: Any) -> asyncio.Future:
        """Queues `item` for the actor, whose answer someone waits for: the batch is prompt."""
        future = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        self._queue_prompt = True
        self._request_flush()
        return future

    def _request_flush(self) -> None:
        if self._flushing is not None or not self._queue:
            return  # the batch in flight asks again when it ends
        prompt = self._queue_prompt or not self.alone
        if prompt not in self._scheduled and True not in self._scheduled:
            self._scheduled.add(prompt)
            self.documents.flush_soon(self, prompt)

    def flush(self, prompt: bool) -> None:
        """The front's `prompt` (or lazy) flush: sends what is queued as one batch, unless a batch
        is in flight (its end asks for another)."""
        self._scheduled.discard(prompt)
        if self._flushing is None and self._queue:
            self._flushing = asyncio.create_task(self._send_batch())

    async def settle(self) -> None:
        """Returns once the actor has answered everything queued so far: the batch in flight,
        then one with the rest, sent at once."""
        for _ in range(2):
            if self._flushing is None:
                if not self._queue:
                    return
                self._flushing = asyncio.create_task(self._send_batch())
            await asyncio.shield(self._flushing)

    async def _send_batch(self) -> None:
        batch, self._queue = self._queue, []
        self._queue_prompt = False
        room, self._room = self._room, None
        if room is not None:
            room.set_result(None)
        try:
            try:
                results = await self.documents.services.actors.client.ask(
                    self.topic, DocumentBatch(self.documents.front, tuple(item for item, _ in batch))
                )
            except Exception as error:
                results = [error] * len(batch)
            for (_, waiting), result in zip(batch, results, strict=True):
                if isinstance(waiting, SessionLink):
                    if isinstance(result, Exception):
                        waiting.finish(reset=f"the session refused a frame: {result!r}")
                elif waiting.done():
                    continue
                elif isinstance(result, Exception):
                    waiting.set_exception(result)
                else:
                    waiting.set_result(_as_handled(result))
        finally:
            self._flushing = None
            for _, waiting in batch:
                if not isinstance(waiting, SessionLink):
                    waiting.cancel()  # only those still waiting: the front is stopping
        self._request_flush()

    async def _read_feed(self) -> None:
        assert self.subscription is not None
        try:
            while True:
                event = await self.subscription.get()
                if event["type"] == "frames":
                    if event.get("origin") == self.documents.front:
                        continue
                    frames = [base64.b64decode(data) for data in event["data"]]
                    for link in list(self.links):
                        link.deliver(frames)
                elif event["type"] == "fronts":
                    self.alone = event["fronts"] == [self.documents.front]
                    self._request_flush()  # what waits lazily may now be news elsewhere
                elif event["type"] == "closed":
                    for link in list(self.links):
                        link.finish()
                    self.stop()
                    return
        except SubscriptionClosed as closed:
            # Fell behind (or the front is stopping): every socket resets, reconnects and resyncs.
            for link in list(self.links):
                link.finish(reset=str(closed))
            self.stop()


class SessionDocuments:
    """The documents of `/collab/ws` and `/collab/yjs/{id}`: JWT → participant → a SessionLink."""

    def __init__(
        self,
        services: Services,
        pending_limit: int = 512,
        flush_delay: float = 0.02,
        local_flush_delay: float = 1.0,
    ) -> None:
        self.services = services
        # Names this front in the actor, which publishes a frame only to fronts that did not relay it.
        self.front = secrets.token_hex(8)
        self.pending_limit = pending_limit
        self.inbox_limit = services.actors.bus.limit if services.actors is not None else 1000
        self.relays: dict[str, SessionRelay] = {}
        # Relays with frames queued flush together, at most `flush_delay` after the first frame
        # someone waits for (`local_flush_delay` when nobody does), so that one Ray call per host
        # carries the batches of every session the front relays.
        self.delays = {True: flush_delay, False: max(flush_delay, local_flush_delay)}
        self._due: dict[bool, list[SessionRelay]] = {True: [], False: []}
        self._timers: dict[bool, asyncio.TimerHandle | None] = {True: None, False: None}

    def flush_soon(self, relay: SessionRelay, prompt: bool) -> None:
        self._due[prompt].append(relay)
        if self._timers[prompt] is None:
            self._timers[prompt] = asyncio.get_running_loop().call_later(self.delays[prompt], self._flush_due, prompt)

    def _flush_due(self, prompt: bool) -> None:
        self._timers[prompt] = None
        due, self._due[prompt] = self._due[prompt], []
        for relay in due:
            relay.flush(prompt)

    async def settle(self, session_id: str) -> None:
        """Hands the session's actor every frame this front holds for it, and waits for its answer."""
        relay = self.relays.get(session_id)
        if relay is not None:
            await relay.settle()

    def trusts_cookies_from(self, origin: str | None, host: str | None) -> bool:
        """No Origin (not a browser), the frontend's (`FRONTEND_URL`), or this server's own
        (api/server/origins.py; `null` never rides a cookie)."""
        return OriginPolicy(self.services.settings.frontend_origins).allows(origin, host, credentials=True)

    async def authorize(self, document: str, token: str | None) -> Grant:
        if not SESSION_ID.match(document):
            raise Denied("permission-denied: no such session")
        if not token:
            raise Denied("permission-denied: no token")
        try:
            claims = await self.services.live_sessions.claims(token)
        except InvalidToken:
            raise Denied("permission-denied: invalid token") from None
        if self.services.actors is None:
            raise Denied("unavailable: the actor runtime is not running on this front")
        try:
            session = await self.services.actors.client.ask(session_actor_id(document), GetSession())
        except SessionNotFound:
            raise Denied("permission-denied: no such session") from None
        if str(claims.user_id) not in (session["user1ID"], session["user2ID"]):
            raise Denied("permission-denied: not a participant of this session")
        if session["status"] != "ACTIVE":
            raise Denied("permission-denied: the session has ended")
        return Grant(claims.user_id, login=self.services.live_sessions.login(claims))

    async def open(self, grant: Grant, document: str) -> SessionLink:
        relay = self.relays.get(document)
        if relay is None or relay.stopped:
            relay = self.relays[document] = SessionRelay(self, document)
            await relay.start()
        await asyncio.shield(relay.started)
        try:
            link = await relay.attach(secrets.token_hex(8), grant.user_id)
        except (SessionClosed, SessionNotFound) as error:
            raise Denied(f"permission-denied: {error.message}") from None
        if grant.login is not None:
            link.unwatch_login = grant.login.on_end(lambda: link.withdraw(f"permission-denied: {LOGIN_ENDED}"))
        return link

    def forget(self, relay: SessionRelay) -> None:
        if self.relays.get(relay.session_id) is relay:
            del self.relays[relay.session_id]


def documents(connection: HTTPConnection) -> SessionDocuments:
    """This front's SessionDocuments, made on first use."""
    services = connection.app.state.services
    if services.collab is None:
        services.collab = SessionDocuments(
            services,
            pending_limit=services.settings.collab_relay_pending_frames,
            flush_delay=services.settings.collab_flush_ms / 1000,
            local_flush_delay=services.settings.collab_local_flush_ms / 1000,
        )
    return services.collab


def collab_sockets() -> list[SocketRoute]:
    """`/collab/ws` (Hocuspocus) and `/collab/yjs/{id}` (y-websocket), serving the session actors' documents."""
    return collab_socket_routes(documents)

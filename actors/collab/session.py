"""The collab session actor: two users, one pycrdt document (`Y.Text` named `code`) and its
awareness, the session's lifecycle and its timers.

Connections reach the document through a front: each client frame (y-websocket form: a
type byte, then the payload) is a message here, answered with the frames for that
connection. A front relays a client's updates and awareness to its own other connections of
the session at once, and hands them here in batches (`DocumentBatch`, which names the front):
the actor is the session's record, not the relay. What the actor then has to publish on
`collab:{id}` (base64 frames, the event bus speaks JSON) goes only where it is news: a batch's
updates are published only when a connection on another front exists, marked with their
origin so that front can skip them; awareness removed for a closed connection goes to all.
When the fronts holding the session's connections change, a `fronts` event names them, so a
front whose connections are the only ones can hand its frames over less often.
pycrdt's own sync and awareness helpers do the protocol work. The document is snapshotted
while it changes (at most every `snapshot_seconds`), when the last connection has been gone
for `grace_seconds`, and at the end, when the final code is stored; a re-activated session
restores the last snapshot.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from typing import Any, Protocol

from pycrdt import (
    Awareness,
    Doc,
    Text,
    create_awareness_message,
    create_sync_message,
    create_update_message,
    handle_sync_message,
)
from pycrdt import (
    Decoder as _Decoder,
)

from actors.actor import Actor
from actors.collab.awareness import encode_awareness_update
from actors.collab.records import ParticipantRecord, SessionRecord, session_json
from actors.context import ActorContext

SYNC, AWARENESS, QUERY_AWARENESS = 0, 1, 3
SYNC_STEP1 = 0


class SessionNotFound(Exception):
    def __init__(self, message: str = "Session not found") -> None:
        super().__init__(message)
        self.message = message


class SessionClosed(Exception):
    """The session has ended or expired; its document is read-only history."""

    def __init__(self, message: str = "Session is not active") -> None:
        super().__init__(message)
        self.message = message


class SessionConflict(Exception):
    """A new session's id is taken, or its question does not exist."""

    def __init__(self, message: str = "A session with this id exists, or the question does not") -> None:
        super().__init__(message)
        self.message = message


def session_actor_id(session_id: str) -> str:
    """The id of session `session_id`'s actor."""
    return f"collab:{session_id}"


def session_topic(session_id: str) -> str:
    """The event topic session `session_id` publishes on (document frames, closes, its fronts)."""
    return f"collab:{session_id}"


@dataclass(frozen=True)
class CreateSession:
    """Store this new session (ACTIVE, no participants) and answer its JSON."""

    record: SessionRecord


@dataclass(frozen=True)
class GetSession:
    pass


@dataclass(frozen=True)
class JoinSession:
    user_id: int


@dataclass(frozen=True)
class LeaveSession:
    user_id: int


@dataclass(frozen=True)
class EndSession:
    reason: str = "ENDED"


@dataclass(frozen=True)
class OpenDocument:
    """A connection attaches; answered with the frames it should get first (the awareness).
    `front` names the front that holds the socket (None: a connection that relays nothing)."""

    connection: str
    user_id: int
    front: str | None = None


@dataclass(frozen=True)
class DocumentFrame:
    connection: str
    frame: bytes


@dataclass(frozen=True)
class CloseDocument:
    connection: str


@dataclass(frozen=True)
class DocumentBatch:
    """Opens, frames and closes from one front, in the order its connections sent them; answered
    with one result per item, an exception object for an item that failed (the others stand).
    The front has already relayed the frames to its own connections of the session."""

    front: str
    items: tuple[OpenDocument | DocumentFrame | CloseDocument, ...]


@dataclass(frozen=True)
class FrameResult:
    replies: tuple[bytes, ...] = ()
    applied: bool | None = None


# One object for every applied update: a batch's results pickle it once.
APPLIED = FrameResult((), True)


@dataclass(frozen=True)
class _Snapshot:
    pass


@dataclass(frozen=True)
class _Expire:
    pass


class CollabStore(Protocol):
    async def create(self, record: SessionRecord) -> None:
        """Store a new session; raises SessionConflict when its id is taken or its question unknown."""

    async def load(self, session_id: str) -> tuple[SessionRecord, bytes | None] | None:
        """The session and its latest document snapshot."""

    async def save_snapshot(self, session_id: str, document: bytes, code: str) -> None: ...

    async def save_participants(self, session_id: str, participants: list[ParticipantRecord]) -> None: ...

    async def finish(self, session_id: str, status: str, ended_at: datetime, document: bytes, code: str) -> None:
        """Status ENDED or EXPIRED, the end time, the final snapshot and code."""


class CollabSession(Actor):
    def __init__(
        self,
        actor_id: str,
        context: ActorContext,
        store: CollabStore,
        snapshot_seconds: float = 5.0,
        grace_seconds: float = 30.0,
    ) -> None:
        super().__init__(actor_id, context.clock)
        self.session_id = actor_id.partition(":")[2]
        self.events = context.events
        self.store = store
        self.snapshot_seconds = snapshot_seconds
        self.grace_seconds = grace_seconds
        self.record: SessionRecord | None = None
        self.doc: Doc | None = None
        self.awareness: Awareness | None = None
        self.connections: dict[str, int] = {}
        self.fronts: dict[str, str | None] = {}
        self.client_ids: dict[str, set[int]] = {}
        self.dirty = False
        # While a batch is handled: the front its current item came from, and what it made to
        # publish as (origin, base64 frame); None outside a batch, when frames go out at once.
        self._origin: str | None = None
        self._outgoing: list[tuple[str | None, str]] | None = None

    # lifecycle

    async def on_activate(self) -> None:
        loaded = await self.store.load(self.session_id)
        if loaded is not None:
            self._restore(*loaded)

    def _restore(self, record: SessionRecord, snapshot: bytes | None) -> None:
        """Hold `record` and its document, restored from `snapshot`."""
        self.record = record
        self.doc = Doc()
        if snapshot:
            self.doc.apply_update(snapshot)
        self.doc.get("code", type=Text)
        self.awareness = Awareness(self.doc)
        self.awareness.set_local_state(None)
        self.awareness.observe(self._awareness_changed)
        self.doc.observe(self._document_changed)
        if self.record.status == "ACTIVE" and self.record.expires_at is not None:
            self.timers.at("expire", self.record.expires_at, _Expire())

    async def on_deactivate(self) -> None:
        if self.dirty:
            await self._snapshot()

    def may_passivate(self) -> bool:
        return not self.connections and not self.dirty

    def _session(self) -> SessionRecord:
        if self.record is None:
            self.retiring = True
            raise SessionNotFound()
        return self.record

    def _active(self) -> SessionRecord:
        session = self._session()
        if session.status != "ACTIVE":
            raise SessionClosed()
        return session

    async def handle(self, message: Any) -> Any:
        match message:
            case GetSession():
                return self.as_json()
            case CreateSession(record):
                return await self._create(record)
            case JoinSession(user_id):
                return await self._join(user_id)
            case LeaveSession(user_id):
                return await self._leave(user_id)
            case EndSession(reason):
                return await self._end(reason)
            case DocumentBatch(front, items):
                return self._batch(front, items)
            case OpenDocument() | DocumentFrame() | CloseDocument():
                results = self._batch(None, (message,))
                if isinstance(results[0], Exception):
                    raise results[0]
                return results[0]
            case _Snapshot():
                if self.dirty:
                    await self._snapshot()
                return None
            case _Expire():
                if self.record is not None and self.record.status == "ACTIVE":
                    await self._end("EXPIRED")
                return None
        raise TypeError(f"a collab session does not understand {type(message).__name__}")

    def as_json(self) -> dict[str, Any]:
        session = self._session()
        out = session_json(session)
        if session.status == "ACTIVE" and self.doc is not None:
            out["code"] = str(self.doc.get("code", type=Text))
        return out

    async def _create(self, record: SessionRecord) -> dict[str, Any]:
        if self.record is not None:
            raise SessionConflict()
        try:
            await self.store.create(record)
        except SessionConflict:
            self.retiring = True
            raise
        self.retiring = False
        self._restore(record, None)
        return self.as_json()

    # membership

    async def _join(self, user_id: int) -> dict[str, Any]:
        session = self._active()
        now = self.clock.now()
        mine = next((p for p in session.participants if p.user_id == user_id), None)
        if mine is None:
            session.participants.append(ParticipantRecord(user_id, now))
        else:
            mine.left_at = None
        await self.store.save_participants(session.id, session.participants)
        return self.as_json()

    async def _leave(self, user_id: int) -> dict[str, Any]:
        session = self._active()
        mine = next((p for p in session.participants if p.user_id == user_id), None)
        if mine is not None and mine.left_at is None:
            mine.left_at = self.clock.now()
            await self.store.save_participants(session.id, session.participants)
        if all(p.left_at is not None for p in session.participants) and self.dirty:
            await self._snapshot()
        return self.as_json()

    async def _end(self, status: str) -> dict[str, Any]:
        session = self._session()
        if session.status != "ACTIVE":
            return self.as_json()
        now = self.clock.now()
        code = str(self.doc.get("code", type=Text))
        await self.store.finish(session.id, status, now, self.doc.get_update(), code)
        session.status, session.ended_at, session.code = status, now, code
        for participant in session.participants:
            participant.left_at = participant.left_at or now
        self.dirty = False
        self.timers.cancel_all()
        self.events.publish(session_topic(session.id), {"type": "closed", "reason": status.lower()})
        return self.as_json()

    # the document

    def _batch(self, front: str | None, items) -> list[Any]:
        results: list[Any] = []
        self._outgoing = []
        try:
            for item in items:
                self._origin = front if isinstance(item, DocumentFrame) else None
                try:
                    results.append(self._item(item))
                except Exception as refused:  # that item's answer; the batch goes on
                    results.append(refused)
        finally:
            outgoing, self._outgoing, self._origin = self._outgoing, None, None
            self._publish(outgoing)
        return results

    def _item(self, item: OpenDocument | DocumentFrame | CloseDocument) -> Any:
        match item:
            case OpenDocument(connection, user_id, front):
                return self._open(connection, user_id, front)
            case DocumentFrame(connection, frame):
                return self._frame(connection, frame)
            case CloseDocument(connection):
                return self._close(connection)

    def _open(self, connection: str, user_id: int, front: str | None) -> tuple[bytes, ...]:
        session = self._active()
        if user_id not in session.user_ids:
            raise SessionClosed("User not in session")
        self.connections[connection] = user_id
        fronts = set(self.fronts.values())
        self.fronts[connection] = front
        self._announce_fronts(fronts)
        self.client_ids.setdefault(connection, set())
        self.timers.cancel("grace")
        if self.awareness.states:
            return (create_awareness_message(encode_awareness_update(self.awareness, list(self.awareness.states))),)
        return ()

    def _frame(self, connection: str, frame: bytes) -> FrameResult:
        if connection not in self.connections:
            raise SessionClosed("Connection not open")
        if not frame:
            raise ValueError("empty frame")
        kind = frame[0]
        if kind == SYNC:
            if len(frame) < 2:
                raise ValueError("truncated sync frame")
            if frame[1] == SYNC_STEP1:
                reply = handle_sync_message(frame[1:], self.doc)
                return FrameResult((create_sync_message(self.doc), reply))
            handle_sync_message(frame[1:], self.doc)
            return APPLIED
        if kind == AWARENESS:
            update = _Decoder(frame[1:]).read_message()
            self.awareness.apply_awareness_update(update, connection)
            return FrameResult()
        if kind == QUERY_AWARENESS:
            states = list(self.awareness.states)
            return FrameResult((create_awareness_message(encode_awareness_update(self.awareness, states)),))
        raise ValueError(f"unknown frame type {kind}")

    def _close(self, connection: str) -> None:
        self.connections.pop(connection, None)
        fronts = set(self.fronts.values())
        self.fronts.pop(connection, None)
        self._announce_fronts(fronts)
        gone = self.client_ids.pop(connection, set())
        if gone and self.awareness is not None:
            self.awareness.remove_awareness_states(list(gone), connection)
        if not self.connections and self.record is not None and self.record.status == "ACTIVE":
            self.timers.once("grace", self.grace_seconds, _Snapshot())

    def _document_changed(self, event) -> None:
        if self._news_elsewhere():
            self._broadcast(create_update_message(event.update))
        if not self.dirty:
            self.dirty = True
            self.timers.once("snapshot", self.snapshot_seconds, _Snapshot())

    def _awareness_changed(self, topic: str, change: tuple[dict[str, Any], Any]) -> None:
        changes, origin = change
        if topic != "change":
            return
        touched = changes.get("added", []) + changes.get("updated", []) + changes.get("removed", [])
        if isinstance(origin, str) and origin in self.client_ids:
            self.client_ids[origin].update(changes.get("added", []))
            self.client_ids[origin].difference_update(changes.get("removed", []))
        if touched and self._news_elsewhere():
            self._broadcast(create_awareness_message(encode_awareness_update(self.awareness, touched)))

    def _announce_fronts(self, before: set[str | None]) -> None:
        after = set(self.fronts.values())
        if after != before:
            fronts = sorted(after, key=lambda front: front or "")
            self.events.publish(session_topic(self.session_id), {"type": "fronts", "fronts": fronts})

    def _news_elsewhere(self) -> bool:
        """False when only the front that relayed the current frame listens: then there is
        nothing to publish, nor to encode."""
        origin = self._origin
        return origin is None or any(front != origin for front in self.fronts.values())

    def _broadcast(self, frame: bytes) -> None:
        encoded = (self._origin, base64.b64encode(frame).decode())
        if self._outgoing is None:
            self._publish([encoded])
        else:
            self._outgoing.append(encoded)

    def _publish(self, outgoing: list[tuple[str | None, str]]) -> None:
        """One event per run of frames from the same origin, in order."""
        for origin, run in groupby(outgoing, key=lambda pair: pair[0]):
            frames = [frame for _, frame in run]
            self.events.publish(session_topic(self.session_id), {"type": "frames", "data": frames, "origin": origin})

    async def _snapshot(self) -> None:
        self.dirty = False
        self.timers.cancel("snapshot")
        await self.store.save_snapshot(self.session_id, self.doc.get_update(), str(self.doc.get("code", type=Text)))

"""The collab session actor as a plain object on a fake clock, writing through to a real database.

Clients here are pycrdt documents speaking the y-websocket frame form to the actor, and
receiving what it publishes, as the front relays it.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from datetime import timedelta

import pytest
from pycrdt import Awareness, Doc, Text, create_awareness_message, create_sync_message, create_update_message
from pycrdt import handle_sync_message as apply_sync
from sqlalchemy import event as sql_event
from sqlalchemy import select

from actors.clock import FakeClock, settle
from actors.collab.session import (
    CloseDocument,
    CollabSession,
    DocumentFrame,
    EndSession,
    GetSession,
    JoinSession,
    LeaveSession,
    OpenDocument,
    SessionClosed,
    SessionNotFound,
    session_topic,
)
from actors.context import ActorContext
from actors.stores.collab import SqlCollabStore
from persistence.models import CollabSession as SessionRow
from persistence.models import CollabSnapshot, User
from tests.contest.conftest import RecordedEvents


class Client:
    """A pycrdt document connected to the session actor through frames."""

    def __init__(self, actor: CollabSession, connection: str, user_id: int) -> None:
        self.actor = actor
        self.connection = connection
        self.user_id = user_id
        self.doc = Doc()
        self.text = self.doc.get("code", type=Text)
        self.outbox: list[bytes] = []
        self.doc.observe(lambda event: self.outbox.append(create_update_message(event.update)))

    async def connect(self) -> None:
        await self.actor.ask(OpenDocument(self.connection, self.user_id))
        result = await self.actor.ask(DocumentFrame(self.connection, create_sync_message(self.doc)))
        for reply in result.replies:
            self.receive(reply)

    def receive(self, frame: bytes) -> None:
        if frame[0] == 0:
            answer = apply_sync(frame[1:], self.doc)
            if answer is not None:
                self.outbox.append(answer)

    async def flush(self) -> list:
        results = []
        while self.outbox:
            results.append(await self.actor.ask(DocumentFrame(self.connection, self.outbox.pop(0))))
        return results


def relay(events: RecordedEvents, session_id: str, clients: list[Client], start: int) -> int:
    """Deliver every frame the session published since `start` to every client; the new start."""
    published = events.published[start:]
    for topic, event in published:
        if topic == session_topic(session_id) and event["type"] == "frames":
            for data in event["data"]:
                for client in clients:
                    client.receive(base64.b64decode(data))
    return start + len(published)


@pytest.fixture
async def collab(db_sessions):
    async with db_sessions() as session:
        people = [User(username=name, email=f"{name}@example.com", password_hash="x") for name in ("ann", "bo", "cy")]
        session.add_all(people)
        await session.flush()
        row = SessionRow(id=str(uuid.uuid4()), topic="Arrays", difficulty="Easy", language="python",
                         user1_id=people[0].id, user2_id=people[1].id)  # fmt: skip
        session.add(row)
        await session.commit()
        ids = [person.id for person in people]
    clock, events, store = FakeClock(), RecordedEvents(), SqlCollabStore(db_sessions)
    async with db_sessions() as session:
        row = await session.get(SessionRow, row.id)
        row.expires_at = clock.now() + timedelta(hours=1)
        await session.commit()

    def make() -> CollabSession:
        return CollabSession(f"collab:{row.id}", ActorContext(clock, events), store, snapshot_seconds=5,
                             grace_seconds=30)  # fmt: skip

    return make, row.id, ids, clock, events, db_sessions


async def test_two_clients_converge_and_the_end_stores_the_code(collab):
    make, session_id, (ann, bo, _), clock, events, sessions = collab
    actor = make()
    one, two = Client(actor, "c1", ann), Client(actor, "c2", bo)
    await one.connect()
    await two.connect()
    seen = len(events.published)
    one.text += "def solve():\n"
    two.text += "# notes\n"
    assert all(result.applied for result in await one.flush() + await two.flush())
    seen = relay(events, session_id, [one, two], seen)
    assert str(one.text) == str(two.text)
    one.text.insert(0, ">>")  # concurrently: one inserts at the front, two deletes the first two characters
    del two.text[0:2]
    await one.flush()
    await two.flush()
    relay(events, session_id, [one, two], seen)
    assert str(one.text) == str(two.text) == str(actor.doc.get("code", type=Text))
    assert "solve" in str(one.text)

    await clock.advance(5)
    await actor.ask(GetSession())  # queued behind the snapshot the timer posted: it has been written
    async with sessions() as session:
        snapshot = await session.scalar(select(CollabSnapshot.code).where(CollabSnapshot.session_id == session_id))
    assert snapshot == str(one.text)

    ended = await actor.ask(EndSession())
    assert ended["status"] == "ENDED" and ended["code"] == str(one.text)
    assert events.published[-1] == (session_topic(session_id), {"type": "closed", "reason": "ended"})
    async with sessions() as session:
        row = await session.get(SessionRow, session_id)
    assert row.status == "ENDED" and row.code == str(one.text)
    with pytest.raises(SessionClosed):
        await actor.ask(OpenDocument("c3", ann))


async def test_a_reactivated_session_restores_its_last_snapshot(collab):
    make, _session_id, (ann, _, _), clock, _events, _ = collab
    first = make()
    client = Client(first, "c1", ann)
    await client.connect()
    client.text += "print('kept')"
    await client.flush()
    await first.ask(CloseDocument("c1"))
    await clock.advance(30)  # the grace period passes: snapshot
    await first.ask(GetSession())  # queued behind that snapshot
    second = make()
    restored = await second.ask(GetSession())
    assert restored["code"] == "print('kept')"
    again = Client(second, "c9", ann)
    await again.connect()
    assert str(again.text) == "print('kept')"


async def test_expiry_by_its_own_timer_saves_the_code(collab):
    make, session_id, (ann, _, _), clock, events, _sessions = collab
    actor = make()
    client = Client(actor, "c1", ann)
    await client.connect()
    client.text += "x = 1"
    await client.flush()
    await clock.advance(3600)
    await settle()
    state = await actor.ask(GetSession())
    assert state["status"] == "EXPIRED" and state["code"] == "x = 1"
    assert (session_topic(session_id), {"type": "closed", "reason": "expired"}) in events.published


async def test_membership_and_who_may_open(collab):
    make, _session_id, (ann, bo, cy), _, _, _ = collab
    actor = make()
    joined = await actor.ask(JoinSession(ann))
    assert [p["userId"] for p in joined["participants"]] == [str(ann)]
    left = await actor.ask(LeaveSession(ann))
    assert left["participants"][0]["leftAt"] is not None
    rejoined = await actor.ask(JoinSession(ann))
    assert rejoined["participants"][0]["leftAt"] is None
    with pytest.raises(SessionClosed, match="User not in session"):
        await actor.ask(OpenDocument("x", cy))
    with pytest.raises(SessionClosed):
        await actor.ask(DocumentFrame("never-opened", b"\x00\x00\x00"))
    await actor.ask(OpenDocument("c1", bo))
    with pytest.raises(ValueError):
        await actor.ask(DocumentFrame("c1", b"\x07"))
    stranger = CollabSession(f"collab:{uuid.uuid4()}", actor_context(actor), actor.store)
    with pytest.raises(SessionNotFound):
        await stranger.ask(GetSession())
    assert stranger.retiring


def actor_context(actor: CollabSession) -> ActorContext:
    return ActorContext(actor.clock, actor.events)


async def test_awareness_is_relayed_and_removed_when_a_connection_closes(collab):
    make, _session_id, (ann, bo, _), _, events, _ = collab
    actor = make()
    one = Client(actor, "c1", ann)
    await one.connect()
    mine = Awareness(one.doc)
    mine.set_local_state({"user": {"name": "ann"}})
    frame = create_awareness_message(mine.encode_awareness_update([one.doc.client_id]))
    before = len(events.published)
    await actor.ask(DocumentFrame("c1", frame))
    assert len(events.published) == before + 1
    assert one.doc.client_id in actor.awareness.states
    first = await actor.ask(OpenDocument("c2", bo))
    assert first and first[0][0] == 1  # the newcomer gets the current awareness
    await actor.ask(CloseDocument("c1"))
    assert one.doc.client_id not in actor.awareness.states
    assert len(events.published) == before + 2  # the removal went out too


async def test_snapshots_saved_at_once_go_in_one_transaction_and_each_save_returns_once_stored(collab):
    _, session_id, (ann, bo, _), _, _, sessions = collab
    async with sessions() as session:
        others = [SessionRow(id=str(uuid.uuid4()), topic="Arrays", difficulty="Easy", language="python",
                             user1_id=ann, user2_id=bo) for _ in range(3)]  # fmt: skip
        session.add_all(others)
        await session.commit()
    ids = [session_id, *(row.id for row in others)]
    store = SqlCollabStore(sessions)
    await store.save_snapshot(session_id, b"old", "old")
    commits = []
    sql_event.listen(sessions.kw["bind"].sync_engine, "commit", lambda _connection: commits.append(1))

    saves = [store.save_snapshot(sid, sid.encode(), f"code of {sid}") for sid in ids]
    saves.append(store.save_snapshot(session_id, b"newest", "newest"))  # replaces the one still waiting
    await asyncio.gather(*saves)

    assert len(commits) == 1
    async with sessions() as session:
        rows = (await session.execute(select(CollabSnapshot.session_id, CollabSnapshot.code))).all()
    assert sorted(rows) == sorted([(session_id, "newest"), *((sid, f"code of {sid}") for sid in ids[1:])])

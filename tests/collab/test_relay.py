"""The front's session relay on real Ray: a frame reaches the same front's other connections
at once, other fronts through the bus exactly once, and the actor publishes nothing a single
front would only relay twice. Two `SessionDocuments` on one runtime stand for two fronts."""

from __future__ import annotations

import asyncio

import pytest
import pytest_asyncio
from pycrdt import Doc, Text, create_sync_message, create_update_message
from pycrdt import handle_sync_message as apply_sync

from actors.collab.session import EndSession, session_actor_id, session_topic
from api.collab.documents import SessionDocuments, SessionLink
from api.collab.ws.application import Grant
from tests.conftest import bearer
from tests.contest.apps import contest_app, login

pytestmark = pytest.mark.asyncio(loop_scope="module")

PATIENCE = 10.0


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def api(ray_session, database_url, tmp_path_factory):
    async with contest_app(database_url, tmp_path_factory.mktemp("relay")) as (client, app):
        yield client, app


@pytest_asyncio.fixture(loop_scope="module")
async def session(api):
    return await new_session(api)


async def new_session(api):
    """A fresh ACTIVE session between two new users: (services, session id, user ids)."""
    client, app = api
    services = app.state.services
    (ann, _), (bo, _) = await login(client), await login(client)
    admin_id, _ = await login(client)
    body = {"topic": "Arrays", "difficulty": "Easy", "questionId": "1", "language": "python",
            "user1ID": str(ann), "user2ID": str(bo)}  # fmt: skip
    created = await client.post("/collab/sessions", json=body, headers=bearer(services.tokens.issue(admin_id, "ADMIN")))
    assert created.status_code == 201, created.text
    return services, created.json()["data"]["id"], (ann, bo)


async def until_alone(front: SessionDocuments, session_id: str, alone: bool = True) -> None:
    """Until the actor's `fronts` event has told the front whether it holds every connection."""
    await until(lambda: front.relays[session_id].alone is alone)


async def until(condition) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PATIENCE
    while not condition():
        assert loop.time() < deadline, "condition never held"
        await asyncio.sleep(0.01)


async def stored_text(services, session_id: str, user_id: int) -> str:
    """The session actor's text, as a connection opening now on another front gets it."""
    reader = await Editor.join(SessionDocuments(services), session_id, user_id)
    await reader.link.close()
    return str(reader.text)


class Editor:
    """A pycrdt document behind one link, as a client behind one socket."""

    def __init__(self, link: SessionLink) -> None:
        self.link = link
        self.doc = Doc()
        self.text = self.doc.get("code", type=Text)
        self.updates: list[bytes] = []
        self.doc.observe(lambda event: self.updates.append(create_update_message(event.update)))
        self.frames: asyncio.Queue[bytes] = asyncio.Queue()
        self.ended: asyncio.Future[Exception | None] = asyncio.get_running_loop().create_future()

    def listen(self) -> None:
        """As a connection does once it has the link: frames come to `frames` from now on."""
        self.link.listen(self.frames.put_nowait, self.ended.set_result)

    @classmethod
    async def join(cls, documents: SessionDocuments, session_id: str, user_id: int, listen: bool = True) -> Editor:
        editor = cls(await documents.open(Grant(user_id), session_id))
        if listen:
            editor.listen()
        handled = await editor.link.handle(create_sync_message(editor.doc))
        for reply in handled.replies:
            editor.apply(reply)
        return editor

    def apply(self, frame: bytes) -> None:
        if frame[0] == 0:
            apply_sync(frame[1:], self.doc)

    async def type(self, text: str):
        """Appends `text`; the Handled of its update frame (relayed, not yet stored)."""
        self.text += text
        frame = self.updates.pop()
        return frame, await self.link.handle(frame)

    async def receive(self) -> bytes:
        frame = await asyncio.wait_for(self.frames.get(), PATIENCE)
        self.apply(frame)
        return frame


async def test_a_frame_reaches_this_fronts_connections_at_once_and_another_front_once(session):
    services, session_id, (ann, bo) = session
    front_a, front_b = SessionDocuments(services), SessionDocuments(services)
    one, two = await Editor.join(front_a, session_id, ann), await Editor.join(front_a, session_id, bo)
    far = await Editor.join(front_b, session_id, bo)

    frame, handled = await one.type("def solve():")
    assert two.frames.get_nowait() == frame  # relayed before the actor has even seen it
    assert handled.applied is True and front_a.relays[session_id].queued == 1
    two.apply(frame)
    assert await far.receive() == frame  # through the actor and the bus

    answer, _ = await far.type("\n    pass")
    # Front A skipped its own frame when the actor published it for front B: the next thing the
    # second connection gets is front B's update, not a second copy of the first.
    assert await two.receive() == answer
    assert await one.receive() == answer
    assert str(one.text) == str(two.text) == str(far.text) == "def solve():\n    pass"
    for editor in (one, two, far):
        await editor.link.close()
    assert session_id not in front_a.relays and session_id not in front_b.relays


async def test_a_session_whose_connections_share_a_front_publishes_no_frames(session):
    services, session_id, (ann, bo) = session
    front = SessionDocuments(services)
    watcher = await services.actors.bus.subscribe(session_topic(session_id))
    try:
        one, two = await Editor.join(front, session_id, ann), await Editor.join(front, session_id, bo)
        await one.type("x = 1")
        await asyncio.wait_for(front.settle(session_id), PATIENCE)
        await two.receive()
        await services.actors.client.ask(session_actor_id(session_id), EndSession())
        published = [await asyncio.wait_for(watcher.get(), PATIENCE)]
        while published[-1]["type"] != "closed":
            published.append(await asyncio.wait_for(watcher.get(), PATIENCE))
        # No frames before the end: only the news that this front holds every connection.
        assert published[:-1] == [{"type": "fronts", "fronts": [front.front]}]
        assert await asyncio.wait_for(two.ended, PATIENCE) is None
    finally:
        watcher.close()


async def test_a_connection_that_joins_late_gets_every_frame_already_relayed(session):
    services, session_id, (ann, bo) = session
    front = SessionDocuments(services)
    one = await Editor.join(front, session_id, ann)
    await one.type("print(42)")  # relayed and queued, not yet stored
    late = await Editor.join(front, session_id, bo)  # its sync step 1 queues behind the update
    assert str(late.text) == "print(42)"


async def test_the_queue_to_the_actor_is_bounded_and_loses_nothing(session):
    services, session_id, (ann, bo) = session
    front = SessionDocuments(services, pending_limit=1)
    one, two = await Editor.join(front, session_id, ann), await Editor.join(front, session_id, bo)
    relay = front.relays[session_id]
    frames = []
    for index in range(6):
        one.text += f"{index};"
        frames.append(one.updates.pop())
    handling = [asyncio.create_task(one.link.handle(frame)) for frame in frames]
    await asyncio.sleep(0)
    assert relay.queued <= 1 and not all(task.done() for task in handling)  # the rest wait for room
    assert [(await task).applied for task in handling] == [True] * len(frames)
    assert [await two.receive() for _ in frames] == frames
    assert str(two.text) == "0;1;2;3;4;5;"
    await asyncio.wait_for(front.settle(session_id), PATIENCE)
    assert await stored_text(services, session_id, ann) == "0;1;2;3;4;5;"


async def test_a_connection_that_falls_behind_before_it_listens_is_reset_not_fed_forever(session):
    # Once listening, frames go straight to the connection, whose outbound queue has its own bound.
    services, session_id, (ann, bo) = session
    front = SessionDocuments(services)
    front.inbox_limit = 3
    one, two = await Editor.join(front, session_id, ann), await Editor.join(front, session_id, bo, listen=False)
    for index in range(4):
        await one.type(str(index))
    two.listen()
    assert isinstance(two.ended.result(), ConnectionResetError)
    assert two.frames.empty()


async def test_the_frames_of_many_sessions_reach_their_actors_in_one_call_per_host(api):
    sessions = [await new_session(api) for _ in range(6)]
    services = sessions[0][0]
    front = SessionDocuments(services, flush_delay=0.2)
    editors = [await Editor.join(front, session_id, ann) for _, session_id, (ann, _) in sessions]
    for _, session_id, _ in sessions:
        await until_alone(front, session_id)  # so that every batch waits for the same (lazy) flush
    hosts = {services.actors.client.host_of(session_actor_id(session_id)) for _, session_id, _ in sessions}
    calls = services.actors.client.ray_calls
    for editor in editors:
        await editor.type("x")
    await until(lambda: all(relay.queued == 0 and not relay.sending for relay in front.relays.values()))
    assert services.actors.client.ray_calls - calls == len(hosts) < len(editors)


async def test_frames_only_this_front_needs_wait_for_the_lazy_flush_unless_someone_waits(session):
    services, session_id, (ann, bo) = session
    front = SessionDocuments(services, flush_delay=0.02, local_flush_delay=60)
    one, two = await Editor.join(front, session_id, ann), await Editor.join(front, session_id, bo)
    await until_alone(front, session_id)
    _, first = await one.type("a")
    assert first.applied is True  # the sync status goes at once
    await two.receive()  # and so does the relay
    await asyncio.sleep(0.3)
    relay = front.relays[session_id]
    assert relay.queued == 1

    # A sync step 1 is waited for: it goes at once, and the update queued before it with it.
    answer = await asyncio.wait_for(two.link.handle(create_sync_message(Doc())), PATIENCE)
    assert relay.queued == 0
    fresh = Doc()
    apply_sync(answer.replies[1][1:], fresh)
    assert str(fresh.get("code", type=Text)) == "a"

    # What the session's end will store: `settle` hands over what waits.
    await one.type("b")
    await asyncio.sleep(0.1)
    assert relay.queued == 1
    await asyncio.wait_for(front.settle(session_id), PATIENCE)
    assert relay.queued == 0
    ended = await services.actors.client.ask(session_actor_id(session_id), EndSession())
    assert ended["code"] == "ab"


async def test_a_connection_on_another_front_makes_this_fronts_frames_go_at_once(session):
    services, session_id, (ann, bo) = session
    near, far_front = SessionDocuments(services, local_flush_delay=60), SessionDocuments(services)
    one = await Editor.join(near, session_id, ann)
    await until_alone(near, session_id)
    far = await Editor.join(far_front, session_id, bo)
    await until_alone(near, session_id, alone=False)
    frame, _ = await one.type("x = 1")
    assert await far.receive() == frame  # PATIENCE is far below the lazy flush's 60 s
    await far.link.close()
    await until_alone(near, session_id)


async def test_ending_a_session_over_http_first_hands_over_what_the_front_holds(api):
    client, _ = api
    services, session_id, (ann, _) = await new_session(api)
    before, services.collab = services.collab, SessionDocuments(services, local_flush_delay=60)
    try:
        one = await Editor.join(services.collab, session_id, ann)
        await until_alone(services.collab, session_id)
        await one.type("kept")
        assert services.collab.relays[session_id].queued == 1
        caller = bearer(services.tokens.issue(ann, "USER"))
        ended = await client.post(f"/collab/sessions/{session_id}/end", headers=caller)
        assert ended.status_code == 200, ended.text
        assert ended.json()["data"]["code"] == "kept"
    finally:
        services.collab = before


async def test_a_relayed_frame_the_session_refuses_resets_the_connection_that_sent_it(session):
    services, session_id, (ann, bo) = session
    front = SessionDocuments(services)
    one, two = await Editor.join(front, session_id, ann), await Editor.join(front, session_id, bo)
    garbage = b"\x00\x02\x04\xff\xff\xff\xff"  # an update frame whose update pycrdt cannot read
    assert (await one.link.handle(garbage)).applied is True  # relayed, so answered at once
    assert await two.frames.get() == garbage
    await asyncio.wait_for(front.settle(session_id), PATIENCE)
    ended = await asyncio.wait_for(one.ended, PATIENCE)
    assert isinstance(ended, ConnectionResetError) and "refused" in str(ended)
    assert not two.ended.done()

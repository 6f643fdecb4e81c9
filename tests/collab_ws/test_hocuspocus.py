"""HocuspocusConnection over an in-memory transport, with a pycrdt Doc playing the provider's document."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

import pytest
from pycrdt import (
    Doc,
    Text,
    create_awareness_message,
    create_sync_message,
    create_update_message,
    handle_sync_message,
    write_var_uint,
)

from actors.collab.awareness import encode_awareness_update
from api.collab.ws.connection import CollabLimits
from api.collab.ws.encoding import EMPTY_AWARENESS, PING, PONG, MessageType, Reader, write_var_string
from api.collab.ws.hocuspocus import HocuspocusConnection
from tests.collab_ws.fakes import FakeCollabApplication, MemoryTransport

WITHIN = 5.0


@dataclass(frozen=True)
class Received:
    address: str
    type: int
    payload: bytes


def decode(frame: bytes) -> Received:
    if len(frame) == 1:
        return Received("", frame[0], b"")
    reader = Reader(frame)
    address = reader.read_var_string()
    kind = reader.read_var_uint()
    return Received(address, kind, frame[reader.offset :])


def auth(address: str, token: str, version: str | None = "4.8.0") -> bytes:
    frame = write_var_string(address) + bytes([MessageType.AUTH, 0]) + write_var_string(token)
    return frame + (write_var_string(version) if version is not None else b"")


def addressed(address: str, frame: bytes) -> bytes:
    return write_var_string(address) + frame


class Provider:
    """A provider's side of one address: a pycrdt Doc, the frames it sends and what it receives."""

    def __init__(self, connection: HocuspocusConnection, transport: MemoryTransport, address: str) -> None:
        self.connection = connection
        self.transport = transport
        self.address = address
        self.doc = Doc()
        self.text = self.doc.get("code", type=Text)
        self.outgoing: list[bytes] = []
        self.doc.observe(lambda event: self.outgoing.append(create_update_message(event.update)))

    def send(self, frame: bytes) -> None:
        self.connection.feed(addressed(self.address, frame))

    def open(self, token: str = "alice") -> None:
        """What the provider sends on open, without waiting: Auth, Sync step 1, its awareness."""
        self.connection.feed(auth(self.address, token))
        self.send(create_sync_message(self.doc))
        self.send(create_awareness_message(self.awareness_update('{"name":"Zoë"}')))

    def awareness_update(self, state: str, clock: int = 1) -> bytes:
        return write_var_uint(1) + write_var_uint(self.doc.client_id) + write_var_uint(clock) + write_var_string(state)

    def edit(self, index: int, text: str) -> None:
        self.text.insert(index, text)
        while self.outgoing:
            self.send(self.outgoing.pop(0))


class Harness:
    def __init__(self, connection: HocuspocusConnection, transport: MemoryTransport) -> None:
        self.connection = connection
        self.transport = transport
        self.received: list[Received] = []

    def provider(self, address: str = "sess-1") -> Provider:
        return Provider(self.connection, self.transport, address)

    async def next(self, within: float = WITHIN) -> Received:
        frame = decode(await self.transport.next(within))
        self.received.append(frame)
        return frame

    async def until(self, address: str, kind: int, payload: bytes | None = None) -> Received:
        """The next frame to `address` of `kind` (and `payload`), passing over pings and other frames."""
        while True:
            frame = await self.next()
            if frame.address == address and frame.type == kind and payload in (None, frame.payload):
                return frame

    async def seen(self, address: str, kind: int, payload: bytes) -> Received:
        """Like `until`, but a matching frame received earlier counts too."""
        for frame in self.received:
            if (frame.address, frame.type, frame.payload) == (address, kind, payload):
                return frame
        return await self.until(address, kind, payload)

    def sent_to(self, address: str, kind: int) -> list[Received]:
        return [frame for frame in self.received if frame.address == address and frame.type == kind]


@contextlib.asynccontextmanager
async def hocuspocus(application: FakeCollabApplication | None = None, limits: CollabLimits | None = None, **options):
    application = application or FakeCollabApplication()
    transport = MemoryTransport()
    connection = HocuspocusConnection(application, transport, limits or CollabLimits(), **options)
    runner = asyncio.create_task(connection.run())
    try:
        yield Harness(connection, transport)
    finally:
        connection.abort()
        await asyncio.wait_for(runner, WITHIN)
        assert not [task for task in connection._tasks if not task.done()]
        assert all(link.closed for link in application.opened)


async def test_auth_then_sync_as_the_reference_server_orders_them():
    application = FakeCollabApplication()
    application.document("sess-1").edit(0, "def solve():\n")
    async with hocuspocus(application) as harness:
        provider = harness.provider()
        provider.open()
        assert await harness.next() == Received("sess-1", MessageType.AUTH, b"\x02\x0aread-write")
        step1 = await harness.until("sess-1", MessageType.SYNC)
        assert step1.payload[0] == 0
        step2 = await harness.until("sess-1", MessageType.SYNC)
        assert step2.payload[0] == 1
        assert handle_sync_message(step2.payload, provider.doc) is None
        assert str(provider.text) == "def solve():\n"
        await harness.until("sess-1", MessageType.AWARENESS)

        provider.edit(13, "    return 42 # é\n")
        assert (await harness.until("sess-1", MessageType.SYNC_STATUS)).payload == b"\x01"
        echoed = await harness.until("sess-1", MessageType.SYNC)
        assert echoed.payload[0] == 2  # the update, relayed to the sender too
        assert application.document("sess-1").content == "def solve():\n    return 42 # é\n"
    assert application.authorizations == [("sess-1", "alice")]


async def test_frames_wait_for_a_slow_authorization_and_are_handled_in_order():
    gate = asyncio.Event()

    class SlowApplication(FakeCollabApplication):
        async def authorize(self, document, token):
            await gate.wait()
            return await super().authorize(document, token)

    application = SlowApplication()
    async with hocuspocus(application) as harness:
        provider = harness.provider()
        provider.open()
        provider.edit(0, "x")
        await asyncio.sleep(0.05)
        assert harness.transport.sent == []
        assert harness.connection._queued_frames == 4  # the Auth being handled and three held frames
        gate.set()
        await harness.until("sess-1", MessageType.SYNC_STATUS, b"\x01")
        [link] = application.opened
        assert [frame[0] for frame in link.frames] == [0, 1, 0]
        assert link.frames[2][1] == 2
        assert harness.connection._queued_frames == 0
        assert application.document("sess-1").content == "x"


async def test_an_update_is_taken_in_the_readers_step_unless_a_frame_of_its_document_is_still_being_handled():
    gate = asyncio.Event()
    application = FakeCollabApplication()
    async with hocuspocus(application) as harness:
        provider = harness.provider()
        provider.open()
        await harness.until("sess-1", MessageType.SYNC)
        [link] = application.opened
        await application.wait_until("sess-1", lambda _: len(link.frames) == 2)
        provider.edit(0, "a")
        assert link.frames[-1][:2] == b"\x00\x02"  # taken by `feed` itself, nothing queued
        assert harness.connection._queued_frames == 0

        handle = link.handle

        async def slow_sync_step1(frame: bytes):
            if frame[:2] == b"\x00\x00":
                await gate.wait()
            return await handle(frame)

        link.handle = slow_sync_step1
        provider.send(create_sync_message(provider.doc))
        await asyncio.sleep(0.05)
        provider.edit(1, "b")
        assert len(link.frames) == 3 and harness.connection._queued_frames == 2  # step 1 and the update
        gate.set()
        await application.wait_until("sess-1", lambda document: document.content == "ab")
        assert [frame[:2] for frame in link.frames[3:]] == [b"\x00\x00", b"\x00\x02"]


async def idle(connection: HocuspocusConnection) -> None:
    """Until no task of the connection is live (a task ends in the step after its last work)."""
    for _ in range(100):
        if not connection._tasks and not connection._outbound.writing:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"still busy: {connection._tasks} writing={connection._outbound.writing}")


async def test_a_synced_document_holds_no_task_queue_or_writer_between_frames():
    """Thousands of sockets live in one front: between frames one holds nothing but its state."""
    application = FakeCollabApplication()
    async with hocuspocus(application) as harness:
        provider = harness.provider()
        provider.open()
        await harness.until("sess-1", MessageType.SYNC)
        await idle(harness.connection)
        document = harness.connection.documents["sess-1"]
        assert (document.inbound, document.serving) == (None, None)
        provider.edit(0, "a")
        await application.wait_until("sess-1", lambda doc: doc.content == "a")
        assert not harness.connection._tasks and document.inbound is None

        harness.transport.block.clear()  # a client that stops reading: the frame waits for a writer
        sent = len(harness.transport.sent)
        application.document("sess-1").edit(1, "b")
        await asyncio.sleep(0.05)
        assert harness.connection._outbound.writing and not harness.connection._outbound.idle
        assert len(harness.transport.sent) == sent
        harness.transport.block.set()
        await idle(harness.connection)
        relayed = decode(harness.transport.sent[sent])
        assert (relayed.address, relayed.type, relayed.payload[:1]) == ("sess-1", MessageType.SYNC, b"\x02")
        assert harness.connection._outbound.idle


async def test_permission_denied_keeps_the_socket_open_and_drops_the_held_frames():
    async with hocuspocus() as harness:
        provider = harness.provider()
        provider.send(create_sync_message(provider.doc))
        await asyncio.sleep(0.05)
        assert harness.connection._queued_frames == 1
        harness.connection.feed(auth("sess-1", "mallory"))
        denied = await harness.until("sess-1", MessageType.AUTH)
        assert denied.payload == b"\x01" + write_var_string("not a participant of this session")
        await asyncio.sleep(0.05)
        assert not harness.transport.closed.done()
        assert harness.connection._queued_frames == 0
        assert harness.connection.documents == {}

        provider.open(token="bob")
        assert (await harness.until("sess-1", MessageType.AUTH)).payload == b"\x02\x0aread-write"
        await harness.until("sess-1", MessageType.SYNC)


async def test_frames_after_a_refused_auth_wait_for_the_next_auth_as_in_server_4_7():
    application = FakeCollabApplication()
    async with hocuspocus(application) as harness:
        provider = harness.provider()
        provider.open(token="mallory")
        await harness.until("sess-1", MessageType.AUTH, b"\x01" + write_var_string("not a participant of this session"))
        await asyncio.sleep(0.05)
        assert harness.connection._queued_frames == 2
        harness.connection.feed(auth("sess-1", "alice"))
        await harness.until("sess-1", MessageType.AUTH, b"\x02\x0aread-write")
        await harness.until("sess-1", MessageType.SYNC)
        [link] = application.opened
        assert [frame[0] for frame in link.frames] == [0, 1]


async def test_an_empty_token_falls_back_to_the_upgrade_cookie():
    application = FakeCollabApplication()
    async with hocuspocus(application, cookie_token="carol") as harness:
        harness.connection.feed(auth("sess-1", ""))
        await harness.until("sess-1", MessageType.AUTH, b"\x02\x0aread-write")
        harness.connection.feed(auth("sess-2", "bob", version=None))
        await harness.until("sess-2", MessageType.AUTH, b"\x02\x0aread-write")
    assert application.authorizations == [("sess-1", "carol"), ("sess-2", "bob")]


async def test_session_aware_addresses_route_by_name_and_get_replies_under_their_address():
    application = FakeCollabApplication()
    async with hocuspocus(application) as harness:
        first, second = harness.provider("sess-1\0one"), harness.provider("sess-1\0two")
        first.open()
        second.open(token="bob")
        await harness.until("sess-1\0one", MessageType.AUTH)
        await harness.until("sess-1\0two", MessageType.AUTH)
        first.edit(0, "shared")
        update = await harness.until("sess-1\0two", MessageType.SYNC, None)
        while update.payload[0] != 2:
            update = await harness.until("sess-1\0two", MessageType.SYNC, None)
        await harness.seen("sess-1\0one", MessageType.SYNC_STATUS, b"\x01")
        handle_sync_message(update.payload, second.doc)
        assert str(second.text) == "shared"
    assert application.authorizations == [("sess-1", "alice"), ("sess-1", "bob")]
    assert set(application.documents) == {"sess-1"}


async def test_a_readonly_grant_refuses_updates_with_sync_status_0():
    application = FakeCollabApplication()
    async with hocuspocus(application) as harness:
        provider = harness.provider()
        provider.open(token="reader")
        await harness.until("sess-1", MessageType.AUTH, b"\x02\x08readonly")
        provider.edit(0, "no")
        await harness.until("sess-1", MessageType.SYNC_STATUS, b"\x00")
        assert application.document("sess-1").content == ""


async def test_a_client_close_detaches_confirms_and_forgets_the_document():
    application = FakeCollabApplication()
    async with hocuspocus(application) as harness:
        leaving, staying = harness.provider("sess-1\0a"), harness.provider("sess-1\0b")
        leaving.open()
        staying.open(token="bob")
        await harness.until("sess-1\0a", MessageType.AUTH)
        await harness.until("sess-1\0b", MessageType.AUTH)
        leaving.send(bytes([MessageType.CLOSE]))
        closed = await harness.until("sess-1\0a", MessageType.CLOSE)
        assert closed.payload == write_var_string("provider_initiated")
        # The leaver's awareness is removed for the others: its state is null now.
        awareness = application.document("sess-1").awareness
        removal = create_awareness_message(encode_awareness_update(awareness, [leaving.doc.client_id]))
        assert b"null" in removal
        await harness.seen("sess-1\0b", MessageType.AWARENESS, removal[1:])
        assert "sess-1\0a" not in harness.connection.documents
        assert application.opened[0].closed

        leaving.open()
        await harness.until("sess-1\0a", MessageType.AUTH, b"\x02\x0aread-write")


async def test_a_document_closed_by_the_application_gets_a_close_frame_and_later_frames_are_dropped():
    application = FakeCollabApplication()
    async with hocuspocus(application) as harness:
        ending, other = harness.provider("sess-1"), harness.provider("sess-2")
        ending.open()
        other.open()
        await harness.until("sess-1", MessageType.AUTH)
        await harness.until("sess-2", MessageType.AUTH)
        application.close_document("sess-1")
        closed = await harness.until("sess-1", MessageType.CLOSE)
        assert closed.payload == write_var_string("document-closed")
        ending.edit(0, "too late")
        other.edit(0, "still here")
        await harness.until("sess-2", MessageType.SYNC_STATUS, b"\x01")
        assert harness.sent_to("sess-1", MessageType.SYNC_STATUS) == []
        assert application.document("sess-1").content == ""
        assert application.document("sess-2").content == "still here"
        assert not harness.transport.closed.done()
        assert application.opened[0].closed

        ending.connection.feed(auth("sess-1", "alice"))
        denied = await harness.until("sess-1", MessageType.AUTH)
        assert denied.payload == b"\x01" + write_var_string("session-ended")


async def test_stateless_and_types_a_client_never_sends_are_ignored():
    async with hocuspocus() as harness:
        provider = harness.provider()
        provider.open()
        await harness.until("sess-1", MessageType.AUTH)
        provider.send(bytes([MessageType.STATELESS]) + write_var_string('{"hello":1}'))
        provider.send(bytes([MessageType.SYNC_STATUS, 1]))
        provider.send(bytes([MessageType.BROADCAST_STATELESS]) + write_var_string("x"))
        harness.connection.feed(addressed("sess-9", bytes([MessageType.STATELESS]) + write_var_string("x")))
        provider.edit(0, "after")
        await harness.until("sess-1", MessageType.SYNC_STATUS, b"\x01")
        assert {frame.type for frame in harness.received if frame.address == "sess-1"} <= {
            MessageType.AUTH,
            MessageType.SYNC,
            MessageType.AWARENESS,
            MessageType.SYNC_STATUS,
        }
        assert "sess-9" not in harness.connection.documents


async def test_an_auth_on_an_open_document_is_answered_with_its_scope():
    async with hocuspocus() as harness:
        harness.connection.feed(auth("sess-1", "reader"))
        await harness.until("sess-1", MessageType.AUTH, b"\x02\x08readonly")
        harness.connection.feed(auth("sess-1", "alice"))
        await harness.until("sess-1", MessageType.AUTH, b"\x02\x08readonly")


async def test_query_awareness_is_answered_to_this_connection():
    async with hocuspocus() as harness:
        provider = harness.provider()
        provider.open()
        await harness.until("sess-1", MessageType.AUTH)
        provider.send(bytes([MessageType.QUERY_AWARENESS]))
        answer = await harness.until("sess-1", MessageType.AWARENESS)
        while b"Zo" not in answer.payload:
            answer = await harness.until("sess-1", MessageType.AWARENESS)
        assert write_var_string('{"name":"Zoë"}') in answer.payload


@pytest.mark.parametrize(
    "frame",
    [
        b"\x85\x80",  # a truncated address length
        b"\x02\xc3\x28\x00\x00\x01\x00",  # an address that is not UTF-8
        write_var_string("sess-1"),  # no type
        write_var_string("sess-1") + bytes.fromhex("00 09 01 00"),  # an unknown sync subtype
        write_var_string("sess-1") + bytes.fromhex("01 05 01"),  # a truncated awareness update
        write_var_string("sess-1") + bytes([MessageType.AUTH, 1]) + write_var_string("x"),  # a server's Auth
    ],
)
async def test_a_malformed_frame_closes_the_socket_with_4401(frame):
    application = FakeCollabApplication()
    async with hocuspocus(application) as harness:
        harness.provider("sess-2").open()
        await harness.until("sess-2", MessageType.AUTH)
        harness.connection.feed(frame)
        code, reason = await harness.transport.close_code()
        assert code == 4401 and reason.startswith("Malformed frame")
    assert application.opened[0].closed


async def test_a_text_message_closes_the_socket_with_4401():
    async with hocuspocus() as harness:
        harness.connection.feed_text("hello")
        assert (await harness.transport.close_code())[0] == 4401


async def test_a_frame_above_the_limit_closes_with_1009():
    async with hocuspocus(limits=CollabLimits(max_frame_bytes=64)) as harness:
        harness.provider().send(create_awareness_message(b"\x00" + bytes(80)))
        assert (await harness.transport.close_code())[0] == 1009


async def test_more_documents_than_the_limit_close_with_4205():
    async with hocuspocus(limits=CollabLimits(max_documents=2)) as harness:
        for name in ("a", "b"):
            harness.connection.feed(auth(name, "alice"))
            await harness.until(name, MessageType.AUTH)
        harness.connection.feed(auth("c", "alice"))
        assert (await harness.transport.close_code())[0] == 4205


async def test_frames_held_before_auth_are_bounded():
    async with hocuspocus(limits=CollabLimits(max_queued_frames=3)) as harness:
        provider = harness.provider()
        for _ in range(3):
            provider.send(bytes.fromhex("00 00 01 00"))
        await asyncio.sleep(0.05)
        assert not harness.transport.closed.done()
        provider.send(bytes.fromhex("00 00 01 00"))
        assert (await harness.transport.close_code())[0] == 4205


async def test_a_client_that_does_not_read_is_closed_with_4205():
    application = FakeCollabApplication()
    async with hocuspocus(application, limits=CollabLimits(outbound_queue_bytes=4096)) as harness:
        provider = harness.provider()
        provider.open()
        await harness.until("sess-1", MessageType.AUTH)
        harness.transport.block.clear()
        for index in range(100):
            application.document("sess-1").edit(0, f"line {index} " * 4)
        code = await harness.transport.close_code()
        assert code[0] == 4205
        harness.transport.block.set()


async def next_keep_alive(transport, frame: bytes) -> None:
    """Waits for `frame`, passing over the others (the document's sync and awareness)."""
    while await transport.next() != frame:
        pass


async def test_pings_are_sent_every_interval_and_pongs_are_taken():
    """To a 4.x provider (its Auth names its version): a bare Ping, which it answers."""
    async with hocuspocus(limits=CollabLimits(ping_interval_seconds=0.05)) as harness:
        harness.connection.feed(auth("sess-1", "alice"))
        await next_keep_alive(harness.transport, PING)
        harness.connection.feed(PONG)
        await next_keep_alive(harness.transport, PING)
        assert not harness.transport.closed.done()


async def test_a_3x_provider_is_kept_alive_with_addressed_frames_it_can_read():
    """A 3.x provider (no version in its Auth) reads every frame as addressed: a bare `09` would be a
    9-byte document name to it ("Invalid typed array length: 9"); it gets an empty awareness
    update of its document instead, and nothing before it has one."""
    async with hocuspocus(limits=CollabLimits(ping_interval_seconds=0.05)) as harness:
        await asyncio.sleep(0.15)
        assert harness.transport.sent == []
        harness.connection.feed(auth("sess-1", "alice", version=None))
        await next_keep_alive(harness.transport, write_var_string("sess-1") + EMPTY_AWARENESS)
        await next_keep_alive(harness.transport, write_var_string("sess-1") + EMPTY_AWARENESS)
        assert PING not in harness.transport.sent and not harness.transport.closed.done()


async def test_before_any_auth_traffic_does_not_postpone_the_idle_timeout():
    async with hocuspocus(limits=CollabLimits(idle_timeout_seconds=0.3)) as harness:

        async def pong() -> None:
            while True:
                harness.connection.feed(PONG)
                await asyncio.sleep(0.02)

        ponging = asyncio.create_task(pong())
        try:
            assert (await harness.transport.close_code()) == (4408, "Connection Timeout")
        finally:
            ponging.cancel()


async def test_after_auth_traffic_keeps_the_socket_open():
    async with hocuspocus(limits=CollabLimits(idle_timeout_seconds=0.2)) as harness:
        harness.connection.feed(auth("sess-1", "alice"))
        await harness.until("sess-1", MessageType.AUTH)
        for _ in range(20):  # 0.6 s of traffic: three idle timeouts
            harness.connection.feed(PONG)
            await asyncio.sleep(0.03)
        assert not harness.transport.closed.done()
        assert (await harness.transport.close_code(within=WITHIN))[0] == 4408


async def test_an_application_error_resets_the_connection(caplog):
    application = FakeCollabApplication()
    async with hocuspocus(application) as harness:
        provider = harness.provider()
        provider.open()
        await harness.until("sess-1", MessageType.AUTH)
        application.document("sess-1").fail_on_handle = True
        with caplog.at_level(logging.ERROR, "peerprep.collab_ws"):
            provider.edit(0, "x")
            assert (await harness.transport.close_code()) == (4205, "Reset Connection")
        assert "the application broke" in caplog.text


async def test_a_failing_authorization_resets_the_connection(caplog):
    async with hocuspocus() as harness:
        with caplog.at_level(logging.ERROR, "peerprep.collab_ws"):
            harness.connection.feed(auth("sess-1", "broken"))
            assert (await harness.transport.close_code())[0] == 4205


async def test_when_the_peer_goes_every_task_ends_and_every_link_closes():
    application = FakeCollabApplication()
    async with hocuspocus(application) as harness:
        for name in ("sess-1", "sess-2"):
            harness.provider(name).open()
            await harness.until(name, MessageType.AUTH)
        harness.transport.fail_sends = True
        application.document("sess-1").edit(0, "nobody hears this")
        await harness.transport.close_code()
        assert all(link.closed for link in application.opened)
        assert len(application.opened) == 2


async def test_a_link_close_in_progress_finishes_before_run_returns():
    gate = asyncio.Event()
    application = FakeCollabApplication()
    async with hocuspocus(application) as harness:
        harness.connection.feed(auth("sess-1", "alice"))
        await harness.until("sess-1", MessageType.AUTH)
        [link] = application.opened
        plain_close = link.close

        async def slow_close() -> None:
            await gate.wait()
            await plain_close()

        link.close = slow_close
        harness.connection.feed(addressed("sess-1", bytes([MessageType.CLOSE])))
        await asyncio.sleep(0.05)
        harness.connection.abort()  # the worker awaiting the close is cancelled; the close goes on
        asyncio.get_running_loop().call_later(0.05, gate.set)
    assert link.closed

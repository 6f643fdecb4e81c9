"""YWebsocketConnection over an in-memory transport."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from pycrdt import Doc, Text, create_awareness_message, create_sync_message, create_update_message, handle_sync_message

from api.collab.ws.connection import CollabLimits
from api.collab.ws.encoding import EMPTY_AWARENESS, PING, write_var_string, write_var_uint
from api.collab.ws.ywebsocket import YWebsocketConnection
from tests.collab_ws.fakes import FakeCollabApplication, MemoryTransport

WITHIN = 5.0


class Harness:
    def __init__(self, connection: YWebsocketConnection, transport: MemoryTransport) -> None:
        self.connection = connection
        self.transport = transport
        self.doc = Doc()
        self.text = self.doc.get("code", type=Text)
        self.outgoing: list[bytes] = []
        self.doc.observe(lambda event: self.outgoing.append(create_update_message(event.update)))

    def edit(self, index: int, text: str) -> None:
        self.text.insert(index, text)
        while self.outgoing:
            self.connection.feed(self.outgoing.pop(0))

    async def until(self, predicate) -> bytes:
        while not predicate(frame := await self.transport.next(WITHIN)):
            pass
        return frame


@contextlib.asynccontextmanager
async def ywebsocket(
    token: str | None = "alice",
    application: FakeCollabApplication | None = None,
    limits: CollabLimits | None = None,
    document: str = "sess-1",
):
    application = application or FakeCollabApplication()
    transport = MemoryTransport()
    connection = YWebsocketConnection(application, transport, limits, document=document, token=token)
    runner = asyncio.create_task(connection.run())
    try:
        yield Harness(connection, transport)
    finally:
        connection.abort()
        await asyncio.wait_for(runner, WITHIN)
        assert not [task for task in connection._tasks if not task.done()]
        assert all(link.closed for link in application.opened)


async def test_frames_pass_straight_through_without_sync_status():
    application = FakeCollabApplication()
    application.document("sess-1").edit(0, "shared ")
    async with ywebsocket(application=application) as harness:
        # The client sends step 1 and its awareness on open, before authorization finished.
        harness.connection.feed(create_sync_message(harness.doc))
        state = write_var_uint(1) + write_var_uint(77) + write_var_uint(1) + write_var_string('{"n":"é"}')
        harness.connection.feed(create_awareness_message(state))
        step1 = await harness.transport.next()
        assert step1[:2] == b"\x00\x00"
        step2 = await harness.transport.next()
        assert step2[:2] == b"\x00\x01"
        handle_sync_message(step2[1:], harness.doc)
        assert str(harness.text) == "shared "
        assert await harness.transport.next() == create_awareness_message(state)  # relayed, sender included

        harness.edit(7, "text")
        echoed = await harness.transport.next()
        assert echoed[:2] == b"\x00\x02"
        assert application.document("sess-1").content == "shared text"
        assert all(frame[0] != 8 for frame in harness.transport.sent)
    assert application.authorizations == [("sess-1", "alice")]


@pytest.mark.parametrize(
    ("token", "reason"), [("mallory", "not a participant of this session"), (None, "unauthorized")]
)
async def test_a_refusal_sends_the_auth_frame_then_closes_with_4403(token, reason):
    async with ywebsocket(token) as harness:
        harness.connection.feed(create_sync_message(harness.doc))
        assert await harness.transport.next() == b"\x02\x00" + write_var_string(reason)
        assert await harness.transport.close_code() == (4403, reason)


async def test_a_document_closed_by_the_application_closes_with_4410():
    application = FakeCollabApplication()
    async with ywebsocket(application=application) as harness:
        harness.edit(0, "last words")
        await harness.until(lambda frame: frame[:2] == b"\x00\x02")
        application.close_document("sess-1")
        assert await harness.transport.close_code() == (4410, "document-closed")
        assert application.opened[0].closed


@pytest.mark.parametrize("frame", [b"", b"\x00\x07\x01\x00", b"\x01\x05\x01", b"\x00\x00\x03\x00"])
async def test_a_malformed_frame_closes_with_4400(frame):
    async with ywebsocket() as harness:
        harness.connection.feed(frame)
        assert (await harness.transport.close_code())[0] == 4400


async def test_types_the_client_never_sends_are_ignored():
    application = FakeCollabApplication()
    async with ywebsocket(application=application) as harness:
        harness.connection.feed(PING)
        harness.connection.feed(b"\x02\x00\x00")
        harness.edit(0, "ok")
        await harness.until(lambda frame: frame[:2] == b"\x00\x02")
        assert not harness.transport.closed.done()
        assert [frame[0] for frame in application.opened[0].frames] == [0]


async def test_a_frame_above_the_limit_closes_with_4413():
    async with ywebsocket(limits=CollabLimits(max_frame_bytes=32)) as harness:
        harness.connection.feed(create_awareness_message(b"\x00" + bytes(40)))
        assert (await harness.transport.close_code())[0] == 4413


async def test_a_quiet_socket_gets_empty_awareness_updates():
    async with ywebsocket(limits=CollabLimits(keepalive_seconds=0.05)) as harness:
        assert await harness.transport.next() == EMPTY_AWARENESS
        assert await harness.transport.next() == EMPTY_AWARENESS


async def test_a_silent_client_is_closed_with_a_code_it_retries():
    async with ywebsocket(limits=CollabLimits(idle_timeout_seconds=0.1)) as harness:
        assert await harness.transport.close_code() == (4508, "Connection Timeout")


async def test_a_failing_application_resets_with_4205():
    async with ywebsocket("broken") as harness:
        assert await harness.transport.close_code() == (4205, "Reset Connection")


async def test_frames_waiting_for_the_application_are_bounded():
    gate = asyncio.Event()

    class SlowApplication(FakeCollabApplication):
        async def authorize(self, document, token):
            await gate.wait()
            return await super().authorize(document, token)

    async with ywebsocket(application=SlowApplication(), limits=CollabLimits(max_queued_frames=2)) as harness:
        for _ in range(3):
            harness.connection.feed(create_sync_message(harness.doc))
        assert (await harness.transport.close_code())[0] == 4205

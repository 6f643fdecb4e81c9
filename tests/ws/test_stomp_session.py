"""One STOMP connection's state machine, driven as a plain object through a recording transport."""

from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager
from dataclasses import replace

import pytest

from api.contest.stomp.application import Principal, Refused, Timed
from api.contest.stomp.frames import Frame, encode_frame
from api.contest.stomp.session import StompLimits, StompSession, heartbeat_periods
from tests.ws.fakes import FakeApplication, QueueFeed, RecordingTransport

NO_BEATS = StompLimits(heartbeat_send_ms=0, heartbeat_receive_ms=0)


class Connection:
    """A session running on a RecordingTransport, with shortcuts to send frames and read answers."""

    def __init__(self, session: StompSession, transport: RecordingTransport, application: FakeApplication) -> None:
        self.session = session
        self.transport = transport
        self.application = application
        self.runner = asyncio.create_task(session.run())

    def send(self, command: str, *headers: tuple[str, str], body: bytes = b"", version: str = "1.2") -> None:
        self.session.feed(encode_frame(Frame(command, headers, body), version))

    async def connect(self, *headers: tuple[str, str]) -> Frame:
        self.send("CONNECT", ("accept-version", "1.2,1.1,1.0"), ("heart-beat", "0,0"), *headers)
        return await self.expect("CONNECTED")

    async def subscribe(self, destination: str, subscription_id: str = "sub-0", *headers: tuple[str, str]) -> Frame:
        self.send("SUBSCRIBE", ("id", subscription_id), ("destination", destination), *headers)
        return await self.expect("MESSAGE")

    async def expect(self, command: str) -> Frame:
        frame = await self.transport.next_frame()
        assert frame.command == command, (frame, self.transport.sent)
        return frame

    async def expect_error(self, message: str) -> Frame:
        """An ERROR with this message, after which the session ends and the transport is closed."""
        frame = await self.expect("ERROR")
        assert frame.header("message") == message, frame
        await self.ended()
        return frame

    async def ended(self) -> None:
        await asyncio.wait_for(self.runner, 5)
        assert self.transport.closed.is_set()
        assert self.session.closed


@asynccontextmanager
async def connection(limits: StompLimits = NO_BEATS, url_token: str | None = None, application=None):
    application = application or FakeApplication()
    transport = RecordingTransport()
    session = StompSession(application, transport, limits, url_token=url_token, session_id="s1")
    opened = Connection(session, transport, application)
    try:
        yield opened
    finally:
        session.abort()
        await asyncio.wait({opened.runner}, timeout=5)
        assert opened.runner.done()


async def test_connect_answers_connected_with_version_heartbeat_server_and_session():
    async with connection(StompLimits()) as conn:
        connected = await conn.connect()
        assert connected.headers == (
            ("version", "1.2"),
            ("heart-beat", "10000,10000"),
            ("server", "peerprep/0.1.0"),
            ("session", "s1"),
        )


@pytest.mark.parametrize(
    ("headers", "url_token", "seen"),
    [
        ((("Authorization", "Bearer user-3"),), None, "user-3"),
        ((("authorization", "bearer user-4"),), "user-9", "user-4"),
        ((), "user-9", "user-9"),
        ((("Authorization", "Basic dXNlcg=="),), "user-9", "user-9"),
        ((("passcode", "user-5"), ("token", "user-5")), None, None),
    ],
)
async def test_the_token_comes_from_the_authorization_header_else_the_url(headers, url_token, seen):
    async with connection(url_token=url_token) as conn:
        await conn.connect(*headers)
        assert conn.application.tokens == [seen]


async def test_the_principal_reaches_subscribe():
    async with connection() as conn:
        await conn.connect(("Authorization", "Bearer user-3"))
        message = await conn.subscribe("/topic/room/1")
        assert json.loads(message.body)["user"] == 3
        assert conn.session.principal == Principal(3)


async def test_stomp_command_connects_like_connect():
    async with connection() as conn:
        conn.send("STOMP", ("accept-version", "1.2"), ("host", "x"))
        assert (await conn.expect("CONNECTED")).header("version") == "1.2"


@pytest.mark.parametrize(("offered", "version"), [("1.1,1.0", "1.1"), (None, "1.0"), ("1.0,1.2", "1.2")])
async def test_the_highest_common_version_is_chosen(offered, version):
    async with connection() as conn:
        conn.send("CONNECT", *([("accept-version", offered)] if offered else []))
        connected = await conn.expect("CONNECTED")
        assert connected.header("version") == version
        assert (connected.header("heart-beat") is None) == (version == "1.0")


async def test_no_common_version_is_refused_with_the_supported_ones():
    async with connection() as conn:
        conn.send("CONNECT", ("accept-version", "2.0"))
        error = await conn.expect_error("Supported protocol versions are 1.2 1.1 1.0")
        assert error.header("version") == "1.2,1.1,1.0"


async def test_a_refused_token_gets_error_and_close():
    async with connection() as conn:
        conn.send("CONNECT", ("accept-version", "1.2"), ("Authorization", "Bearer bad"))
        await conn.expect_error("Invalid token")


@pytest.mark.parametrize("command", ["SUBSCRIBE", "SEND", "DISCONNECT"])
async def test_any_frame_before_connect_is_an_error(command):
    async with connection() as conn:
        conn.send(command, ("id", "0"), ("destination", "/a"))
        await conn.expect_error(f"Expected CONNECT, got {command!r}")


async def test_a_second_connect_is_an_error():
    async with connection() as conn:
        await conn.connect()
        conn.send("CONNECT", ("accept-version", "1.2"))
        await conn.expect_error("Already connected")


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("SEND", "No destination accepts SEND"),
        ("BEGIN", "Transactions are not supported"),
        ("FROB", "Unknown command 'FROB'"),
    ],
)
async def test_unsupported_commands_are_errors_tied_to_their_receipt(command, message):
    async with connection() as conn:
        await conn.connect()
        conn.send(command, ("destination", "/topic/x"), ("receipt", "r-7"), body=b"{}")
        error = await conn.expect_error(message)
        assert error.header("receipt-id") == "r-7"


async def test_invalid_heartbeat_header_is_an_error():
    async with connection() as conn:
        conn.send("CONNECT", ("accept-version", "1.2"), ("heart-beat", "10,x"))
        await conn.expect_error("Invalid heart-beat header '10,x'")


async def test_subscribe_delivers_the_initial_message_then_pushes_in_order():
    async with connection() as conn:
        await conn.connect()
        first = await conn.subscribe("/topic/room/1", "sub-7")
        assert first.header("subscription") == "sub-7"
        assert first.header("destination") == "/topic/room/1"
        assert first.header("content-type") == "application/json"
        assert json.loads(first.body)["seq"] == 0
        for seq in range(1, 4):
            conn.application.push("/topic/room/1", {"seq": seq, "text": "wörld"})
        later = [await conn.expect("MESSAGE") for _ in range(3)]
        assert [json.loads(frame.body)["seq"] for frame in later] == [1, 2, 3]
        assert later[0].header("content-length") == str(len(later[0].body))
        ids = [frame.header("message-id") for frame in [first, *later]]
        assert len(set(ids)) == 4
        assert first.header("ack") is None


async def test_multibyte_bodies_declare_their_length_in_bytes():
    async with connection() as conn:
        await conn.connect()
        await conn.subscribe("/topic/room/1")
        feed = conn.application.open_feeds("/topic/room/1")[0]
        feed.queue.put_nowait('{"hello":"wörld"}')
        message = await conn.expect("MESSAGE")
        assert message.header("content-length") == "18"
        assert message.body.decode() == '{"hello":"wörld"}'


async def test_a_timed_body_is_sent_as_its_body_and_heard_of_once_the_transport_took_it():
    async with connection() as conn:
        await conn.connect()
        await conn.subscribe("/topic/room/1")
        written: list[int] = []
        feed = conn.application.open_feeds("/topic/room/1")[0]
        conn.transport.block.clear()
        feed.queue.put_nowait(Timed('{"seq":1}', lambda: written.append(len(conn.transport.sent))))
        await asyncio.sleep(0.05)
        assert written == []
        sent_before = len(conn.transport.sent)
        conn.transport.block.set()
        message = await conn.expect("MESSAGE")
        assert message.body == b'{"seq":1}'
        assert written == [sent_before + 1]


async def test_client_ack_subscriptions_get_an_ack_header_and_ack_frames_are_accepted():
    async with connection() as conn:
        await conn.connect()
        message = await conn.subscribe("/topic/a", "sub-0", ("ack", "client-individual"))
        assert message.header("ack") == message.header("message-id")
        conn.send("ACK", ("id", message.header("ack")), ("subscription", "sub-0"), ("receipt", "r-1"))
        conn.send("NACK", ("id", message.header("ack")), ("receipt", "r-2"))
        assert (await conn.expect("RECEIPT")).header("receipt-id") == "r-1"
        assert (await conn.expect("RECEIPT")).header("receipt-id") == "r-2"


async def test_a_subscribe_receipt_comes_before_the_first_message():
    async with connection() as conn:
        await conn.connect()
        conn.send("SUBSCRIBE", ("id", "0"), ("destination", "/topic/a"), ("receipt", "r-1"))
        assert (await conn.expect("RECEIPT")).header("receipt-id") == "r-1"
        assert json.loads((await conn.expect("MESSAGE")).body)["seq"] == 0


async def test_escaped_destinations_reach_the_application_unescaped_and_go_back_escaped():
    async with connection() as conn:
        await conn.connect()
        message = await conn.subscribe("/topic/a:b")
        assert message.header("destination") == "/topic/a:b"
        assert "destination:/topic/a\\cb\n" in conn.transport.sent[-1]
        assert list(conn.application.feeds) == ["/topic/a:b"]


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ((("destination", "/a"),), "SUBSCRIBE needs a id header"),
        ((("id", "0"),), "SUBSCRIBE needs a destination header"),
        ((("id", "0"), ("destination", "/a"), ("ack", "sometimes")), "Invalid ack mode 'sometimes'"),
    ],
)
async def test_invalid_subscribe_is_an_error(headers, message):
    async with connection() as conn:
        await conn.connect()
        conn.send("SUBSCRIBE", *headers)
        await conn.expect_error(message)


async def test_a_duplicate_subscription_id_is_an_error():
    async with connection() as conn:
        await conn.connect()
        await conn.subscribe("/topic/a", "dup")
        conn.send("SUBSCRIBE", ("id", "dup"), ("destination", "/topic/b"))
        await conn.expect_error("Subscription id 'dup' is already in use")
        assert list(conn.application.feeds) == ["/topic/a"]


async def test_subscriptions_per_connection_are_limited():
    async with connection(replace(NO_BEATS, max_subscriptions=2)) as conn:
        await conn.connect()
        await conn.subscribe("/topic/a", "0")
        await conn.subscribe("/topic/b", "1")
        conn.send("SUBSCRIBE", ("id", "2"), ("destination", "/topic/c"))
        await conn.expect_error("More than 2 subscriptions")


async def test_a_refused_subscribe_gets_the_application_message():
    async with connection() as conn:
        await conn.connect()
        conn.send("SUBSCRIBE", ("id", "0"), ("destination", "/topic/denied/1"), ("receipt", "r-1"))
        error = await conn.expect_error("Not a participant: cannot subscribe")
        assert error.header("receipt-id") == "r-1"


async def test_an_application_failure_is_an_internal_error_not_a_crash():
    async with connection() as conn:
        await conn.connect()
        conn.send("SUBSCRIBE", ("id", "0"), ("destination", "/topic/broken"))
        await conn.expect_error("Internal server error")


async def test_unsubscribe_closes_the_feed_and_stops_its_messages():
    async with connection() as conn:
        await conn.connect()
        await conn.subscribe("/topic/a", "0")
        await conn.subscribe("/topic/b", "1")
        [feed_a] = conn.application.feeds["/topic/a"]
        conn.send("UNSUBSCRIBE", ("id", "0"), ("receipt", "r-1"))
        assert (await conn.expect("RECEIPT")).header("receipt-id") == "r-1"
        assert feed_a.closed
        feed_a.queue.put_nowait('{"late": true}')
        conn.application.push("/topic/b", {"seq": 1})
        message = await conn.expect("MESSAGE")
        assert message.header("destination") == "/topic/b"


async def test_unsubscribing_an_unknown_id_is_an_error():
    async with connection() as conn:
        await conn.connect()
        conn.send("UNSUBSCRIBE", ("id", "nope"))
        await conn.expect_error("No subscription with id 'nope'")


async def test_disconnect_with_receipt_answers_then_closes_and_releases_feeds():
    async with connection() as conn:
        await conn.connect()
        await conn.subscribe("/topic/a")
        conn.send("DISCONNECT", ("receipt", "close-1"))
        assert (await conn.expect("RECEIPT")).header("receipt-id") == "close-1"
        await conn.ended()
        assert all(feed.closed for feed in conn.application.feeds["/topic/a"])


async def test_disconnect_without_receipt_just_closes():
    async with connection() as conn:
        await conn.connect()
        conn.send("DISCONNECT")
        await conn.ended()
        assert conn.transport.frames.empty()


async def test_a_feed_that_raises_gets_error_and_close():
    async with connection() as conn:
        await conn.connect()
        await conn.subscribe("/topic/a", "sub-3")
        await conn.subscribe("/topic/b", "sub-4")
        conn.application.push("/topic/a", RuntimeError("feed broke"))
        await conn.expect_error("Subscription sub-3 failed")
        assert all(feed.closed for feeds in conn.application.feeds.values() for feed in feeds)


async def test_a_feed_that_yields_something_else_than_text_is_an_error():
    async with connection() as conn:
        await conn.connect()
        await conn.subscribe("/topic/a")
        conn.application.feeds["/topic/a"][0].queue.put_nowait(b"bytes")
        await conn.expect_error("Subscription sub-0 failed")


async def test_an_ended_feed_leaves_the_connection_usable():
    async with connection() as conn:
        await conn.connect()
        await conn.subscribe("/topic/a", "0")
        conn.application.feeds["/topic/a"][0].queue.put_nowait(None)
        conn.send("UNSUBSCRIBE", ("id", "0"), ("receipt", "r-1"))
        assert (await conn.expect("RECEIPT")).header("receipt-id") == "r-1"
        await conn.subscribe("/topic/b", "1")
        assert not conn.session.closed


async def test_the_peer_going_away_closes_every_feed():
    async with connection() as conn:
        await conn.connect()
        await conn.subscribe("/topic/a", "0")
        await conn.subscribe("/topic/b", "1")
        conn.session.abort()
        await conn.ended()
        assert all(feed.closed for feeds in conn.application.feeds.values() for feed in feeds)


async def test_a_transport_that_fails_to_send_ends_the_session():
    async with connection() as conn:
        await conn.connect()
        await conn.subscribe("/topic/a")
        conn.transport.fail_sends = True
        conn.application.push("/topic/a", {"seq": 1})
        await conn.ended()
        assert conn.application.feeds["/topic/a"][0].closed


async def test_a_protocol_error_in_the_stream_is_an_error_frame():
    async with connection(replace(NO_BEATS, max_frame_bytes=200)) as conn:
        await conn.connect()
        conn.session.feed(b"SEND\ndestination:/a\n\n" + b"x" * 300)
        await conn.expect_error("Frame larger than 200 bytes")


async def test_an_invalid_escape_is_an_error_frame():
    async with connection() as conn:
        await conn.connect()
        conn.session.feed(b"SUBSCRIBE\nid:0\ndestination:/a\\t\n\n\x00")
        await conn.expect_error("Invalid escape sequence '\\\\t' in a header")


async def test_a_frame_split_across_feeds_and_several_frames_in_one_feed():
    async with connection() as conn:
        data = encode_frame(Frame("CONNECT", (("accept-version", "1.2"),)))
        conn.session.feed(data[:5])
        conn.session.feed(data[5:] + b"\n")
        await conn.expect("CONNECTED")
        subscribe_a = encode_frame(Frame("SUBSCRIBE", (("id", "0"), ("destination", "/topic/a"))))
        subscribe_b = encode_frame(Frame("SUBSCRIBE", (("id", "1"), ("destination", "/topic/b"))))
        conn.session.feed((subscribe_a + b"\n" + subscribe_b).decode())
        messages = [await conn.expect("MESSAGE"), await conn.expect("MESSAGE")]
        assert [frame.header("destination") for frame in messages] == ["/topic/a", "/topic/b"]


async def test_frames_waiting_for_a_slow_application_are_limited():
    class SlowApplication(FakeApplication):
        def __init__(self) -> None:
            super().__init__()
            self.release = asyncio.Event()

        async def subscribe(self, principal, destination):
            await self.release.wait()
            return await super().subscribe(principal, destination)

    async with connection(replace(NO_BEATS, max_pending_frames=4), application=SlowApplication()) as conn:
        await conn.connect()
        frames = [encode_frame(Frame("SUBSCRIBE", (("id", str(n)), ("destination", "/topic/a")))) for n in range(6)]
        conn.session.feed(b"".join(frames))
        await conn.expect_error("More than 4 frames waiting to be handled")


async def test_a_client_that_does_not_read_is_closed_instead_of_queueing_without_bound():
    limits = replace(NO_BEATS, outbound_queue_bytes=2000, close_timeout_seconds=5)
    async with connection(limits) as conn:
        await conn.connect()
        await conn.subscribe("/topic/a")
        conn.transport.block.clear()
        for seq in range(1, 200):
            conn.application.push("/topic/a", {"seq": seq, "padding": "x" * 50})
            await asyncio.sleep(0)
            if conn.session.closed:
                break
        assert conn.session.closed
        assert conn.session._outbound.queued_bytes <= limits.outbound_queue_bytes
        conn.transport.block.set()
        while (frame := await conn.transport.next_frame()).command == "MESSAGE":
            pass
        assert frame.command == "ERROR"
        assert frame.header("message") == "Client too slow: outbound queue overflow"
        await conn.ended()


async def test_a_writer_stuck_on_a_dead_client_is_given_up_after_the_close_timeout():
    async with connection(replace(NO_BEATS, outbound_queue_bytes=500, close_timeout_seconds=0.05)) as conn:
        await conn.connect()
        await conn.subscribe("/topic/a")
        conn.transport.block.clear()
        for seq in range(1, 50):
            conn.application.push("/topic/a", {"seq": seq, "padding": "x" * 50})
            await asyncio.sleep(0)
        await conn.ended()
        assert conn.application.feeds["/topic/a"][0].closed


async def test_no_connect_within_the_timeout_closes():
    async with connection(replace(NO_BEATS, connect_timeout_seconds=0.05)) as conn:
        await conn.expect_error("No CONNECT frame within 0.05 s")


async def test_an_authentication_slower_than_the_connect_timeout_closes():
    class StuckApplication(FakeApplication):
        async def authenticate(self, token):
            await asyncio.Event().wait()

    async with connection(replace(NO_BEATS, connect_timeout_seconds=0.05), application=StuckApplication()) as conn:
        conn.send("CONNECT", ("accept-version", "1.2"))
        await conn.expect_error("CONNECT took over 0.05 s")


async def test_a_feed_may_refuse_with_its_own_message():
    async with connection() as conn:
        await conn.connect()
        await conn.subscribe("/topic/a")
        conn.application.push("/topic/a", Refused("Room closed"))
        await conn.expect_error("Room closed")


def test_heartbeat_periods_take_the_slower_side_and_zero_switches_a_direction_off():
    limits = StompLimits(heartbeat_send_ms=10_000, heartbeat_receive_ms=5_000)
    assert heartbeat_periods(limits, 1_000, 20_000) == (20.0, 5.0)
    assert heartbeat_periods(limits, 8_000, 1) == (10.0, 8.0)
    assert heartbeat_periods(limits, 0, 0) == (None, None)
    assert heartbeat_periods(StompLimits(heartbeat_send_ms=0, heartbeat_receive_ms=0), 10, 10) == (None, None)


async def test_server_heartbeats_are_sent_when_the_client_wants_them():
    async with connection(StompLimits(heartbeat_send_ms=20, heartbeat_receive_ms=0)) as conn:
        conn.send("CONNECT", ("accept-version", "1.2"), ("heart-beat", "0,10"))
        assert (await conn.expect("CONNECTED")).header("heart-beat") == "20,0"
        assert await conn.transport.next() == "heart-beat"
        assert await conn.transport.next() == "heart-beat"


async def test_a_client_that_stops_beating_is_closed():
    async with connection(StompLimits(heartbeat_send_ms=0, heartbeat_receive_ms=100, heartbeat_tolerance=2)) as conn:
        conn.send("CONNECT", ("accept-version", "1.2"), ("heart-beat", "10,0"))
        await conn.expect("CONNECTED")
        for _ in range(3):
            conn.session.feed(b"\n")
            await asyncio.sleep(0.01)
        assert not conn.session.closed
        await conn.expect_error("heart-beat missed")


async def test_heartbeats_stay_off_when_the_client_declines_them():
    async with connection(StompLimits(heartbeat_send_ms=10, heartbeat_receive_ms=10)) as conn:
        await conn.connect()
        await asyncio.sleep(0.1)
        assert "\n" not in conn.transport.sent
        assert not conn.session.closed


async def test_errors_before_connected_are_not_escaped_and_stay_on_one_line():
    class MultilineRefusal(FakeApplication):
        async def authenticate(self, token):
            raise Refused("no:\nway")

    async with connection(application=MultilineRefusal()) as conn:
        conn.send("CONNECT", ("accept-version", "1.2"))
        await conn.expect("ERROR")
        assert conn.transport.sent[-1].startswith("ERROR\nmessage:no: way\n")
        await conn.ended()


async def test_cancelling_run_releases_everything():
    async with connection() as conn:
        await conn.connect()
        await conn.subscribe("/topic/a")
        conn.runner.cancel()
        with pytest.raises(asyncio.CancelledError):
            await conn.runner
        assert conn.application.feeds["/topic/a"][0].closed
        assert conn.transport.closed.is_set()


async def test_feed_closing_is_called_once_even_when_it_raises():
    class FragileFeed(QueueFeed):
        closes = 0

        def close(self) -> None:
            FragileFeed.closes += 1
            raise RuntimeError("close failed")

    class FragileApplication(FakeApplication):
        async def subscribe(self, principal, destination):
            return FragileFeed(['{"seq": 0}'])

    async with connection(application=FragileApplication()) as conn:
        await conn.connect()
        await conn.subscribe("/topic/a", "0")
        conn.send("UNSUBSCRIBE", ("id", "0"), ("receipt", "r"))
        await conn.expect("RECEIPT")
        conn.send("DISCONNECT")
        await conn.ended()
        assert FragileFeed.closes == 1

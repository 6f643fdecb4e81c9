"""The real clients: @stomp/stompjs 7.5.0 over sockjs-client 1.6.1 (each transport) and over `ws`."""

from __future__ import annotations

import asyncio

import pytest

from api.contest.stomp.session import StompLimits
from tests.js_clients import StompClient, require_node_clients

pytestmark = pytest.mark.usefixtures("node_clients")

# sockjs-client's transports that work in Node (the others need a browser), and the path each one opens.
SOCKJS_TRANSPORTS = {
    "websocket": "websocket",
    "xhr-streaming": "xhr_streaming",
    "eventsource": "eventsource",
    "xhr-polling": "xhr",
}


@pytest.fixture
def node_clients():
    require_node_clients()


def spec(server, transport: str, **fields) -> dict:
    if transport == "raw":
        return {"url": f"{server.ws_url}/ws/websocket", "transport": "raw", **fields}
    return {"url": f"{server.base_url}/ws", "sockjsTransports": [transport], **fields}


def used_path(server, transport: str) -> str:
    return "/ws/websocket" if transport == "raw" else "/" + SOCKJS_TRANSPORTS[transport]


@pytest.mark.parametrize("transport", [*SOCKJS_TRANSPORTS, "raw"])
async def test_subscribe_receives_the_state_then_every_push_in_order(ws_server, transport):
    fields = {"token": "user-11", "subscribe": ["/topic/room/1", "/topic/room/1/events"]}
    async with StompClient.start(spec(ws_server, transport, **fields)) as client:
        connected = await client.expect("connected")
        assert connected["headers"]["version"] == "1.2"
        assert connected["headers"]["heart-beat"] == "10000,10000"
        first = await client.messages(2)
        assert sorted(message["destination"] for message in first) == ["/topic/room/1", "/topic/room/1/events"]
        assert all(message["body"]["user"] == 11 and message["body"]["seq"] == 0 for message in first)
        for seq in range(1, 6):
            ws_server.application.push("/topic/room/1", {"seq": seq, "name": "wörld ✓ %41"})
        pushed = await client.messages(5)
        assert [message["body"]["seq"] for message in pushed] == [1, 2, 3, 4, 5]
        assert {message["body"]["name"] for message in pushed} == {"wörld ✓ %41"}
        assert {message["subscription"] for message in pushed} == {first[0]["subscription"]}
        await client.command(op="disconnect")
        disconnected, closed = await client.remaining_events()
        assert disconnected == {"event": "disconnected"}
        if transport == "raw":
            # stompjs closes on the RECEIPT while the server closes too: whichever close frame
            # crosses first, the `ws` client reports 1000 or 1005 (no status) for this clean close.
            assert closed["event"] == "close" and closed["code"] in (1000, 1005)
        else:
            assert closed == {"event": "close", "code": 1000, "reason": "Normal closure"}
        assert await client.wait() == 0
    assert ws_server.application.tokens == ["user-11"]
    assert any(path.endswith(used_path(ws_server, transport)) for path in ws_server.paths), ws_server.paths
    feeds = [feed for feeds in ws_server.application.feeds.values() for feed in feeds]
    for _ in range(500):
        if all(feed.closed for feed in feeds):
            break
        await asyncio.sleep(0.01)
    assert len(feeds) == 2 and all(feed.closed for feed in feeds)


@pytest.mark.parametrize("transport", ["websocket", "xhr-polling"])
async def test_a_token_on_the_sockjs_url_reaches_authenticate(ws_server, transport):
    fields = {"subscribe": ["/topic/room/2"], "messages": 1}
    fields["url"] = f"{ws_server.base_url}/ws?token=user-21"
    async with StompClient.start(spec(ws_server, transport, **fields) | {"url": fields["url"]}) as client:
        await client.expect("connected")
        [message] = await client.messages(1)
        assert message["body"]["user"] == 21
        assert await client.wait() == 0
    assert ws_server.application.tokens == ["user-21"]


@pytest.mark.parametrize("transport", ["websocket", "xhr-streaming", "raw"])
async def test_a_refused_subscription_reaches_on_stomp_error(ws_server, transport):
    fields = {"token": "user-3", "subscribe": ["/topic/denied/9"]}
    async with StompClient.start(spec(ws_server, transport, **fields)) as client:
        await client.expect("connected")
        error = await client.expect("error")
        assert error["message"] == "Not a participant: cannot subscribe"
        assert await client.wait() == 1


async def test_a_refused_token_reaches_on_stomp_error(ws_server):
    async with StompClient.start(spec(ws_server, "websocket", token="bad")) as client:
        error = await client.expect("error")
        assert error["message"] == "Invalid token"
        assert await client.wait() == 1


async def test_unsubscribe_from_the_client_closes_the_feed(ws_server):
    fields = {"subscribe": [{"destination": "/topic/room/3", "id": "mine"}]}
    async with StompClient.start(spec(ws_server, "websocket", **fields)) as client:
        await client.expect("connected")
        await client.messages(1)
        await client.command(op="unsubscribe", id="mine")
        await client.command(op="subscribe", destination="/topic/room/4")
        [message] = await client.messages(1)
        assert message["destination"] == "/topic/room/4"
        assert ws_server.application.feeds["/topic/room/3"][0].closed


@pytest.mark.parametrize("transport", ["websocket", "raw"])
async def test_heartbeats_keep_an_idle_connection_open_both_ways(ws_server_factory, transport):
    """stompjs drops a server silent for 2 periods, the server a client silent for 2: neither may happen."""
    server = await ws_server_factory(StompLimits(heartbeat_send_ms=200, heartbeat_receive_ms=200))
    fields = {"subscribe": ["/topic/room/5"], "heartbeat": [200, 200]}
    async with StompClient.start(spec(server, transport, **fields)) as client:
        connected = await client.expect("connected")
        assert connected["headers"]["heart-beat"] == "200,200"
        await client.messages(1)
        await asyncio.sleep(1.2)  # six heart-beat periods without application messages
        server.application.push("/topic/room/5", {"seq": 1})
        [message] = await client.messages(1)
        assert message["body"] == {"seq": 1}

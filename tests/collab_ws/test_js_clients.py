"""The real clients: @hocuspocus/provider 4.8.0 and y-websocket 3.1.0 (yjs 13.6) against `/collab`."""

from __future__ import annotations

import asyncio

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from api.collab.ws.connection import CollabLimits
from api.collab.ws.encoding import write_var_string
from tests.js_clients import EVENT_TIMEOUT_SECONDS, YjsClient, require_yjs_clients

pytestmark = pytest.mark.usefixtures("yjs_clients")


@pytest.fixture
def yjs_clients():
    require_yjs_clients()


def hocuspocus(server, **fields) -> dict:
    return {"url": server.hocuspocus_url, "provider": "hocuspocus", **fields}


def ywebsocket(server, **fields) -> dict:
    return {"url": server.ywebsocket_url, "provider": "y-websocket", **fields}


async def converge(server, document: str, clients: list[tuple[YjsClient, str | None]]) -> str:
    """Waits until every client and the application hold the same text, every change acknowledged."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + EVENT_TIMEOUT_SECONDS
    while True:
        states = [await client.state(doc) for client, doc in clients]
        texts = {state["text"] for state in states} | {server.application.document(document).content}
        settled = all(state["synced"] and state["unsynced"] in (0, None) for state in states)
        if len(texts) == 1 and settled:
            return texts.pop()
        assert loop.time() < deadline, (
            f"no convergence: {states}, server: {server.application.document(document).content!r}"
        )
        await asyncio.sleep(0.05)


async def test_two_hocuspocus_clients_and_a_y_websocket_client_converge_under_concurrent_edits(collab_server):
    collab_server.application.document("sess-1").edit(0, "# shared\n")
    async with (
        YjsClient.start(hocuspocus(collab_server, token="alice")) as alice,
        YjsClient.start(hocuspocus(collab_server, token="bob")) as bob,
        YjsClient.start(ywebsocket(collab_server, token="carol")) as carol,
    ):
        for client in (alice, bob, carol):
            await client.wait_for("synced")
            await client.wait_for("text", text="# shared\n")
        assert (await alice.wait_for("authenticated"))["scope"] == "read-write"

        for round_ in range(12):
            await alice.command(op="insert", index=0, text=f"a{round_}é ")
            await bob.command(op="insert", index=10**6, text=f" b{round_}")
            await carol.command(op="insert", index=4, text=f"c{round_}")
            if round_ % 3 == 2:
                await alice.command(op="delete", index=1, length=2)
                await bob.command(op="delete", index=6, length=3)
                await carol.command(op="delete", index=0, length=1)

        text = await converge(collab_server, "sess-1", [(alice, None), (bob, None), (carol, None)])
        assert text.endswith(" b11")  # bob appends; the others edit near the start
    assert sorted(collab_server.application.authorizations) == [
        ("sess-1", "alice"),
        ("sess-1", "bob"),
        ("sess-1", "carol"),
    ]


async def test_several_documents_share_one_hocuspocus_socket(collab_server):
    documents = [
        "doc-a",
        "doc-b",
        {"name": "doc-a", "label": "doc-a-again", "sessionAwareness": True},
        {"name": "doc-c", "token": "mallory"},
    ]
    async with YjsClient.start(hocuspocus(collab_server, token="alice", documents=documents)) as client:
        for label in ("doc-a", "doc-b", "doc-a-again"):
            await client.wait_for("synced", doc=label)
        denied = await client.wait_for("authenticationFailed", doc="doc-c")
        assert denied["reason"] == "not a participant of this session"

        await client.command(op="insert", doc="doc-a", index=0, text="in a")
        await client.command(op="insert", doc="doc-b", index=0, text="in b")
        await client.wait_for("text", doc="doc-a-again", text="in a")
        assert await converge(collab_server, "doc-a", [(client, "doc-a"), (client, "doc-a-again")]) == "in a"
        assert await converge(collab_server, "doc-b", [(client, "doc-b")]) == "in b"
        assert client.seen("close") == []
    assert collab_server.paths == ["/collab/ws"]
    assert sorted(collab_server.application.authorizations) == [
        ("doc-a", "alice"),
        ("doc-a", "alice"),
        ("doc-b", "alice"),
        ("doc-c", "mallory"),
    ]


async def test_a_denied_hocuspocus_user_gets_authentication_failed_on_an_open_socket(collab_server):
    async with YjsClient.start(hocuspocus(collab_server, token="mallory")) as client:
        failed = await client.wait_for("authenticationFailed")
        assert failed["reason"] == "not a participant of this session"
        state = await client.state()
        assert not state["synced"]
        assert client.seen("close") == []
    assert collab_server.application.authorizations == [("sess-1", "mallory")]
    assert collab_server.paths == ["/collab/ws"]


@pytest.mark.parametrize(
    ("token", "reason"), [("mallory", "not a participant of this session"), (None, "unauthorized")]
)
async def test_a_denied_y_websocket_user_is_told_why_and_stops_reconnecting(collab_server, token, reason):
    spec = ywebsocket(collab_server, **({"token": token} if token else {}))
    async with YjsClient.start(spec) as client:
        assert (await client.wait_for("authenticationFailed"))["reason"] == reason
        closed = await client.wait_for("closed")
        assert (closed["code"], closed["reason"]) == (4403, reason)
        assert client.seen("synced") == []
    assert collab_server.paths == ["/collab/yjs/sess-1"]


async def test_the_access_cookie_authenticates_both_protocols(collab_server):
    cookie = {"cookie": "theme=dark; jwt_access_token=bob"}
    async with (
        YjsClient.start(hocuspocus(collab_server, **cookie)) as hocuspocus_client,
        YjsClient.start(ywebsocket(collab_server, **cookie)) as ywebsocket_client,
    ):
        await hocuspocus_client.wait_for("synced")
        await ywebsocket_client.wait_for("synced")
    assert collab_server.application.authorizations == [("sess-1", "bob"), ("sess-1", "bob")]


async def test_a_malformed_frame_closes_only_that_socket(collab_server):
    async with (
        YjsClient.start(hocuspocus(collab_server, token="alice")) as alice,
        YjsClient.start(ywebsocket(collab_server, token="bob")) as bob,
    ):
        await alice.wait_for("synced")
        await bob.wait_for("synced")
        async with connect(collab_server.hocuspocus_url) as raw:
            await raw.send(write_var_string("sess-1") + bytes.fromhex("00 09 01 00"))
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(raw.recv(), EVENT_TIMEOUT_SECONDS)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
        async with connect(f"{collab_server.ywebsocket_url}/sess-1?token=carol") as raw:
            await raw.send(b"\x00\x00\xff")
            with pytest.raises(ConnectionClosed) as closed:
                while True:  # the step 1 and awareness of the document may come first
                    await asyncio.wait_for(raw.recv(), EVENT_TIMEOUT_SECONDS)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400

        await alice.command(op="insert", index=0, text="still ")
        await bob.command(op="insert", index=10**6, text="here")
        assert await converge(collab_server, "sess-1", [(alice, None), (bob, None)]) in ("still here", "herestill ")
        assert alice.seen("close") == [] and bob.seen("close") == []


async def test_awareness_reaches_the_other_client_and_is_removed_when_it_vanishes(collab_server):
    zoe = {"user": {"name": "Zoë ✓"}}
    carol_state = {"user": {"name": "Carol"}}
    async with (
        YjsClient.start(hocuspocus(collab_server, token="alice", awareness=zoe)) as alice,
        YjsClient.start(ywebsocket(collab_server, token="carol", awareness=carol_state)) as carol,
    ):
        carol_id = (await carol.state())["clientId"]
        alice_id = (await alice.state())["clientId"]
        await alice.wait_for("awareness", states=[{"clientId": carol_id, "state": carol_state}])
        await carol.wait_for("awareness", states=[{"clientId": alice_id, "state": zoe}])

        carol.process.kill()  # no goodbye: the server notices the socket closing
        await alice.wait_for("awareness", states=[])
    document = collab_server.application.document("sess-1")
    assert carol_id not in document.awareness.states


async def test_a_document_closed_by_the_application_reaches_the_clients(collab_server):
    async with (
        YjsClient.start(hocuspocus(collab_server, token="alice", documents=["sess-1", "sess-2"])) as alice,
        YjsClient.start(ywebsocket(collab_server, token="bob")) as bob,
    ):
        await alice.wait_for("synced", doc="sess-1")
        await alice.wait_for("synced", doc="sess-2")
        await bob.wait_for("synced")
        collab_server.application.close_document("sess-1")

        closed = await alice.wait_for("close", doc="sess-1")
        assert (closed["code"], closed["reason"]) == (1000, "document-closed")
        ended = await bob.wait_for("closed")
        assert (ended["code"], ended["reason"]) == (4410, "document-closed")

        await alice.command(op="insert", doc="sess-2", index=0, text="the other document lives on")
        assert await converge(collab_server, "sess-2", [(alice, "sess-2")]) == "the other document lives on"
        assert alice.seen("close", doc="sess-2") == []


async def test_pings_keep_the_provider_watchdog_fed(collab_server_factory):
    """With a 1 s watchdog the provider would reconnect within 1.1 s of silence; pings every 0.2 s prevent it."""
    server = await collab_server_factory(CollabLimits(ping_interval_seconds=0.2, idle_timeout_seconds=1.0))
    async with YjsClient.start(hocuspocus(server, token="alice", messageReconnectTimeout=1000)) as client:
        await client.wait_for("synced")
        await asyncio.sleep(2.5)
        await client.command(op="insert", index=0, text="awake")
        assert await converge(server, "sess-1", [(client, None)]) == "awake"
        assert client.seen("close") == []
    assert server.paths == ["/collab/ws"]

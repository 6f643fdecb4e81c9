"""The `/collab` routes with a plain Python WebSocket client: upgrade, tokens, close codes."""

from __future__ import annotations

import asyncio

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from api.collab_ws.encoding import write_var_string
from api.collab_ws.routes import ACCESS_COOKIE
from api.deps import ACCESS_COOKIE as HTTP_ACCESS_COOKIE

WITHIN = 10.0


def test_the_cookie_is_the_one_the_http_routes_read():
    assert ACCESS_COOKIE == HTTP_ACCESS_COOKIE


async def test_a_subprotocol_is_selected_only_when_offered(collab_server):
    async with connect(collab_server.hocuspocus_url) as plain:
        assert plain.subprotocol is None
    async with connect(f"{collab_server.ywebsocket_url}/sess-1?token=bob", subprotocols=["yjs", "other"]) as offered:
        assert offered.subprotocol == "yjs"


@pytest.mark.parametrize(
    ("query", "cookie", "token"),
    [("?token=alice", "bob", "alice"), ("", "bob", "bob"), ("?token=", "bob", "bob"), ("", None, None)],
)
async def test_the_y_websocket_token_comes_from_the_query_then_the_cookie(collab_server, query, cookie, token):
    headers = {"Cookie": f"{ACCESS_COOKIE}={cookie}"} if cookie else {}
    async with connect(f"{collab_server.ywebsocket_url}/sess-9{query}", additional_headers=headers) as client:
        if token is not None:
            await client.send(bytes.fromhex("00 00 01 00"))  # Sync step 1 of an empty document
            assert (await asyncio.wait_for(client.recv(), WITHIN))[:2] == b"\x00\x00"
        else:
            denied = await asyncio.wait_for(client.recv(), WITHIN)
            assert denied == b"\x02\x00" + write_var_string("unauthorized")
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(client.recv(), WITHIN)
            assert closed.value.rcvd is not None
            assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4403, "unauthorized")
    assert collab_server.application.authorizations == [("sess-9", token)]


async def test_a_text_message_closes_a_hocuspocus_socket_with_4401(collab_server):
    async with connect(collab_server.hocuspocus_url) as client:
        await client.send("hello")
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(client.recv(), WITHIN)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401

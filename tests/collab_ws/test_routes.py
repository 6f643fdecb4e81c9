"""The `/collab` routes with a plain Python WebSocket client: upgrade, tokens, close codes, direct I/O."""

from __future__ import annotations

import asyncio
import time

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient
from starlette.websockets import WebSocket
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from api.collab.ws.connection import NORMAL_CLOSURE
from api.collab.ws.encoding import write_var_string
from api.collab.ws.routes import ACCESS_COOKIE, WebSocketTransport, collab_socket_routes
from api.core.deps import ACCESS_COOKIE as HTTP_ACCESS_COOKIE
from api.server.metrics import FrontMetrics, MetricsMiddleware
from api.server.socket_routes import SocketRoutes
from api.server.uvicorn_direct import receive_directly
from tests.collab_ws.fakes import FakeCollabApplication
from tests.js_clients import live_server

WITHIN = 10.0


async def _until(condition) -> None:
    deadline = asyncio.get_running_loop().time() + WITHIN
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition never held"
        await asyncio.sleep(0.01)


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


async def test_under_uvicorn_frames_are_written_directly_past_the_middleware_until_the_socket_closes():
    wrote_directly = []

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        transport = WebSocketTransport(websocket)
        wrote_directly.append(transport.write_now(b"direct"))
        await transport.send(b"sent")
        await transport.close(NORMAL_CLOSURE, "done")
        wrote_directly.append(transport.write_now(b"too late"))

    app = FastAPI()
    app.add_api_websocket_route("/direct", endpoint)
    app.add_middleware(MetricsMiddleware, metrics=FrontMetrics())  # wraps the ASGI send of WebSockets
    async with live_server(app) as base_url, connect(base_url.replace("http", "ws") + "/direct") as client:
        assert [await asyncio.wait_for(client.recv(), WITHIN) for _ in range(2)] == [b"direct", b"sent"]
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(client.recv(), WITHIN)
        assert closed.value.rcvd.code == NORMAL_CLOSURE
    assert wrote_directly == [True, False]


async def test_under_uvicorn_messages_and_the_disconnect_are_received_directly_those_queued_first():
    received: list[object] = []
    outcome: dict[str, object] = {}
    disconnected = asyncio.Event()

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        protocol = websocket._receive.__self__
        await _until(lambda: not protocol.queue.empty())  # the client's first message, queued by uvicorn
        outcome["switched"] = receive_directly(websocket, received.append, disconnected.set)
        outcome["queue_left"] = type(protocol.queue).__name__
        await websocket.send_bytes(b"ready")
        await asyncio.wait_for(disconnected.wait(), WITHIN)
        outcome["disconnected"] = True

    app = FastAPI()
    app.add_api_websocket_route("/direct", endpoint)
    async with live_server(app) as base_url:
        async with connect(base_url.replace("http", "ws") + "/direct") as client:
            await client.send(b"first")
            assert await asyncio.wait_for(client.recv(), WITHIN) == b"ready"
            for message in (b"second", "a text", b"third"):
                await client.send(message)
            await _until(lambda: len(received) == 4)
        await _until(lambda: "disconnected" in outcome)
    assert outcome == {"switched": True, "queue_left": "_DisconnectNotice", "disconnected": True}
    assert received == [b"first", b"second", "a text", b"third"]


async def test_off_uvicorn_the_asgi_receive_serves_the_socket_until_the_client_leaves():
    """Starlette's TestClient is no uvicorn: the connection reads the ASGI receive instead."""
    application = FakeCollabApplication()
    app = FastAPI()
    app.add_middleware(SocketRoutes, routes=collab_socket_routes(lambda _connection: application))

    def drive() -> bytes:
        with TestClient(app) as client, client.websocket_connect("/collab/yjs/sess-1?token=alice") as socket:
            socket.send_bytes(bytes.fromhex("00 00 01 00"))  # Sync step 1 of an empty document
            reply = socket.receive_bytes()
            socket.close()
            # Waited for here: leaving the block cancels what the app still runs (anyio's scope).
            deadline = time.monotonic() + WITHIN
            while not all(link.closed for link in application.opened) and time.monotonic() < deadline:
                time.sleep(0.01)
            return reply

    assert (await asyncio.to_thread(drive))[:2] == b"\x00\x00"
    assert application.opened and all(link.closed for link in application.opened)

"""`SocketRoutes` in a FastAPI app on a live server: its paths served ahead of the router, the rest passed on."""

from __future__ import annotations

import asyncio
import contextlib
import json
from urllib.parse import parse_qsl

import pytest
from fastapi import FastAPI, WebSocket
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from api.server.connection_caps import ConnectionCaps
from api.server.metrics import FrontMetrics
from api.server.origins import OriginPolicy
from api.server.request_context import current_request_id
from api.server.socket_routes import SocketRoutes
from tests.js_clients import live_server


def socket_app() -> FastAPI:
    app = FastAPI()
    seen: list[dict] = []
    app.state.seen = seen

    async def echo_params(websocket: WebSocket, room: str) -> None:
        seen.append({"route": websocket.scope["route"].path, "has_astack": "fastapi_astack" in websocket.scope})
        await websocket.accept()
        await websocket.send_text(f"room={room} token={websocket.query_params.get('token')}")
        await websocket.close()

    @app.websocket("/routed/{room}")
    async def routed(websocket: WebSocket, room: str) -> None:
        await websocket.accept()
        await websocket.send_text(f"fastapi {room}")
        await websocket.close()

    app.add_middleware(SocketRoutes, routes=[("/direct/{room}", echo_params)])
    return app


async def test_matching_sockets_are_served_with_their_path_parameters_and_route():
    app = socket_app()
    async with live_server(app) as base_url, connect(base_url.replace("http", "ws") + "/direct/7?token=t") as socket:
        assert await socket.recv() == "room=7 token=t"
    assert app.state.seen == [{"route": "/direct/{room}", "has_astack": False}]


async def test_other_sockets_and_requests_go_on_to_the_app():
    app = socket_app()
    async with live_server(app) as base_url:
        ws_url = base_url.replace("http", "ws")
        async with connect(f"{ws_url}/routed/8") as socket:
            assert await socket.recv() == "fastapi 8"
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"{ws_url}/direct/7/more"):
                pass
        assert refused.value.response.status_code == 403
    assert app.state.seen == []


async def test_a_socket_gets_its_request_id_and_is_counted_while_open():
    metrics = FrontMetrics()
    opened = asyncio.Event()
    leave = asyncio.Event()
    seen: list[tuple[str, str]] = []

    async def hold(websocket: WebSocket) -> None:
        seen.append((current_request_id(), websocket.scope["state"]["request_id"]))
        await websocket.accept()
        opened.set()
        await leave.wait()
        await websocket.close()

    app = FastAPI()
    app.add_middleware(SocketRoutes, routes=[("/held", hold)], metrics=metrics)

    def open_count() -> float:
        labels = {"transport": "websocket", "route": "/held"}
        return metrics.registry.get_sample_value("peerprep_open_connections", labels) or 0.0

    async with live_server(app) as base_url:
        url = base_url.replace("http", "ws") + "/held"
        async with connect(url, additional_headers={"X-Request-ID": "abc-123"}):
            await opened.wait()
            assert open_count() == 1
            leave.set()
        for _ in range(100):
            if open_count() == 0:
                break
            await asyncio.sleep(0.01)
        assert open_count() == 0
        opened.clear(), leave.clear()
        async with connect(url, additional_headers={"X-Request-ID": "not valid!"}):
            await opened.wait()
            leave.set()
    assert seen[0] == ("abc-123", "abc-123")
    assert seen[1][0] == seen[1][1] and seen[1][0] != "not valid!" and len(seen[1][0]) == 32


def gated_app(origins: OriginPolicy | None = None, caps: ConnectionCaps | None = None) -> FastAPI:
    """One held socket route behind the origin policy and the caps; `?user=` names the user."""

    async def hold(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("open")
        await websocket.receive_text()

    def identify(scope) -> int | None:
        user = dict(parse_qsl(scope["query_string"].decode())).get("user")
        return int(user) if user else None

    app = FastAPI()
    app.add_middleware(SocketRoutes, routes=[("/held", hold)], origins=origins, caps=caps, identify=identify)
    return app


async def test_a_handshake_from_another_origin_is_refused_before_accept():
    app = gated_app(origins=OriginPolicy(["http://app.example", "https://second.example"]))
    async with live_server(app) as base_url:
        url = base_url.replace("http", "ws") + "/held"
        host = base_url.removeprefix("http://")
        for allowed in ({}, {"Origin": "http://app.example"}, {"Origin": "https://second.example/"},
                        {"Origin": f"http://{host}"}, {"Origin": "null"}):  # fmt: skip
            async with connect(url, additional_headers=allowed) as socket:
                assert await socket.recv() == "open"
        for refused in ({"Origin": "http://evil.example"}, {"Origin": "http://evil.example", "Cookie": "a=b"},
                        {"Origin": "null", "Cookie": "jwt_access_token=x"}):  # fmt: skip
            with pytest.raises(InvalidStatus) as denied:
                async with connect(url, additional_headers=refused):
                    pass
            assert denied.value.response.status_code == 403
            assert json.loads(denied.value.response.body) == {"error": "Origin not allowed"}


async def test_sockets_over_the_caps_are_refused_with_429_and_a_closed_one_frees_its_slot():
    caps = ConnectionCaps(per_ip=3, per_user=2, what="sockets")
    async with live_server(gated_app(caps=caps)) as base_url:
        url = base_url.replace("http", "ws") + "/held"
        async with contextlib.AsyncExitStack() as stack:
            first = await stack.enter_async_context(connect(f"{url}?user=7"))
            await stack.enter_async_context(connect(f"{url}?user=7"))
            with pytest.raises(InvalidStatus) as per_user:
                await stack.enter_async_context(connect(f"{url}?user=7"))
            assert per_user.value.response.status_code == 429
            assert "for this user (at most 2)" in json.loads(per_user.value.response.body)["error"]
            await stack.enter_async_context(connect(url))  # anonymous: the IP's third
            with pytest.raises(InvalidStatus) as per_ip:
                await stack.enter_async_context(connect(f"{url}?user=8"))
            assert per_ip.value.response.status_code == 429
            assert "from this address (at most 3)" in json.loads(per_ip.value.response.body)["error"]
            await first.close()
            for _ in range(200):
                if caps.open_count(ip="127.0.0.1") < 3:
                    break
                await asyncio.sleep(0.01)
            async with connect(f"{url}?user=7") as again:
                assert await again.recv() == "open"
    assert caps.open_count(ip="127.0.0.1") == 0 and caps.open_count(user=7) == 0

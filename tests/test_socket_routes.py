"""`SocketRoutes` in a FastAPI app on a live server: its paths served ahead of the router, the rest passed on."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI, WebSocket
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from api.server.metrics import FrontMetrics
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

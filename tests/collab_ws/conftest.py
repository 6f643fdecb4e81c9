"""Collab WebSocket fixtures: a live server with the `/collab` sockets, and a check that no task died unobserved."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from starlette.requests import HTTPConnection

from api.collab.ws.connection import CollabLimits
from api.collab.ws.routes import collab_socket_routes
from api.server.socket_routes import SocketRoutes
from tests.collab_ws.fakes import FakeCollabApplication
from tests.js_clients import LiveServer, live_server, unhandled_exceptions_fail


@pytest.fixture(autouse=True)
async def no_unhandled_exceptions():
    async with unhandled_exceptions_fail():
        yield


@dataclass
class CollabServer(LiveServer):
    """The `/collab` sockets on a live uvicorn, serving a FakeCollabApplication."""

    application: FakeCollabApplication

    @property
    def hocuspocus_url(self) -> str:
        return f"{self.ws_url}/collab/ws"

    @property
    def ywebsocket_url(self) -> str:
        return f"{self.ws_url}/collab/yjs"


@pytest.fixture
async def collab_server_factory():
    async with contextlib.AsyncExitStack() as stack:

        async def start(limits: CollabLimits | None = None) -> CollabServer:
            server = CollabServer("", FakeCollabApplication())

            def resolve(connection: HTTPConnection) -> FakeCollabApplication:
                server.paths.append(connection.url.path)
                return server.application

            app = FastAPI()
            app.add_middleware(SocketRoutes, routes=collab_socket_routes(resolve, limits))
            server.base_url = await stack.enter_async_context(live_server(app))
            return server

        yield start


@pytest.fixture
async def collab_server(collab_server_factory) -> CollabServer:
    return await collab_server_factory()

"""WebSocket test fixtures: a live server with the `/ws` router, and a check that no task died unobserved."""

from __future__ import annotations

import contextlib
import gc
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from starlette.requests import HTTPConnection

from api.contest.stomp.routes import mount_ws
from api.contest.stomp.session import StompLimits
from api.contest.stomp.sockjs import SockJSLimits
from api.server.connection_caps import ConnectionCaps
from api.server.origins import OriginPolicy
from api.server.socket_routes import SocketRoutes
from tests.js_clients import LiveServer, live_server, unhandled_exceptions_fail
from tests.ws.fakes import FakeApplication

# The page origin the fixture's server trusts, as FRONTEND_URL would name it.
FRONTEND = "http://localhost:3000"


@pytest.fixture(scope="session")
def frozen_heap():
    """Keeps the per-test full collection cheap: what was imported before these tests is not rescanned."""
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()


@pytest.fixture(autouse=True)
async def no_unhandled_exceptions(frozen_heap):
    async with unhandled_exceptions_fail():
        yield


@dataclass
class WsServer(LiveServer):
    """The `/ws` router on a live uvicorn, serving a FakeApplication."""

    application: FakeApplication


@pytest.fixture
async def ws_server_factory():
    async with contextlib.AsyncExitStack() as stack:

        async def start(
            limits: StompLimits | None = None,
            sockjs_limits: SockJSLimits | None = None,
            caps: ConnectionCaps | None = None,
        ) -> WsServer:
            server = WsServer("", FakeApplication())

            def resolve(connection: HTTPConnection) -> FakeApplication:
                server.paths.append(connection.url.path)
                return server.application

            app = FastAPI()
            origins = OriginPolicy([FRONTEND])
            admit = None if caps is None else (lambda connection: caps.acquire(connection.client.host, None))
            socket_routes = mount_ws(app, resolve, limits or StompLimits(), sockjs_limits or SockJSLimits(), origins,
                                     admit)  # fmt: skip
            app.add_middleware(SocketRoutes, routes=socket_routes, origins=origins, caps=caps)
            server.base_url = await stack.enter_async_context(live_server(app))
            return server

        yield start


@pytest.fixture
async def ws_server(ws_server_factory) -> WsServer:
    return await ws_server_factory()

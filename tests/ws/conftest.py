"""WebSocket test fixtures: a live server with the `/ws` router, and a check that no task died unobserved."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from dataclasses import dataclass, field

import pytest
from fastapi import FastAPI
from starlette.requests import HTTPConnection

from api.ws.routes import create_ws_router
from api.ws.sockjs import SockJSLimits
from api.ws.stomp_session import StompLimits
from tests.js_clients import live_server
from tests.ws.fakes import FakeApplication


@pytest.fixture(scope="session")
def frozen_heap():
    """Keeps the per-test full collection cheap: what was imported before these tests is not rescanned."""
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()


@pytest.fixture(autouse=True)
async def no_unhandled_exceptions(frozen_heap):
    loop = asyncio.get_running_loop()
    seen: list[dict] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: seen.append(context))
    yield
    gc.collect()
    await asyncio.sleep(0)
    loop.set_exception_handler(previous)
    assert not seen, [f"{context.get('message')}: {context.get('exception')!r}" for context in seen]


@dataclass
class WsServer:
    """The `/ws` router on a live uvicorn, serving a FakeApplication; `paths` lists what `resolve` saw."""

    base_url: str
    application: FakeApplication
    paths: list[str] = field(default_factory=list)

    @property
    def ws_url(self) -> str:
        return "ws" + self.base_url.removeprefix("http")


@pytest.fixture
async def ws_server_factory():
    async with contextlib.AsyncExitStack() as stack:

        async def start(limits: StompLimits | None = None, sockjs_limits: SockJSLimits | None = None) -> WsServer:
            server = WsServer("", FakeApplication())

            def resolve(connection: HTTPConnection) -> FakeApplication:
                server.paths.append(connection.url.path)
                return server.application

            app = FastAPI()
            app.include_router(create_ws_router(resolve, limits or StompLimits(), sockjs_limits or SockJSLimits()))
            server.base_url = await stack.enter_async_context(live_server(app))
            return server

        yield start


@pytest.fixture
async def ws_server(ws_server_factory) -> WsServer:
    return await ws_server_factory()

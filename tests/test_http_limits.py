"""The request-head limits and the WebSocket message limit of the server's protocols
(`api.cli.protocol_options`), spoken to with raw sockets on a live uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
import os
import struct

import pytest
from fastapi import FastAPI, WebSocket
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from api.cli import protocol_options
from api.server.socket_routes import SocketRoutes
from api.settings import Settings, websocket_max_message_bytes
from tests.js_clients import live_server

PATIENCE = 30.0


def limited_app() -> FastAPI:
    async def hold(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.receive_bytes()

    app = FastAPI()

    @app.get("/hello")
    async def hello() -> dict:
        return {"hello": "world"}

    app.add_middleware(SocketRoutes, routes=[("/held", hold)])
    return app


@contextlib.asynccontextmanager
async def served(**settings):
    async with live_server(limited_app(), **protocol_options(Settings(**settings))) as base_url:
        yield base_url.removeprefix("http://").split(":")


async def answer(reader: asyncio.StreamReader) -> bytes:
    """Everything the server writes until it closes the connection."""
    return await asyncio.wait_for(reader.read(), PATIENCE)


async def send_head(host: str, port: str, head: bytes) -> bytes:
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        with contextlib.suppress(ConnectionError):
            for start in range(0, len(head), 1 << 16):
                writer.write(head[start : start + (1 << 16)])
                await writer.drain()
        return await answer(reader)
    finally:
        writer.close()


async def test_slow_headers_are_answered_408_and_closed_after_the_timeout():
    async with served(http_header_timeout_seconds=0.5) as (host, port):
        connections = [await asyncio.open_connection(host, int(port)) for _ in range(200)]
        try:
            for index, (_reader, writer) in enumerate(connections):
                # Half send part of a head, half nothing at all.
                if index % 2:
                    writer.write(b"GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: a")
            answers = await asyncio.gather(*(answer(reader) for reader, _writer in connections))
        finally:
            for _reader, writer in connections:
                writer.close()
    assert all(text.startswith(b"HTTP/1.1 408 ") for text in answers)
    assert answers[0].endswith(b'{"error": "Request headers not received in time"}')


async def test_oversize_heads_and_too_many_headers_get_431_and_a_normal_one_is_served():
    async with served() as (host, port):
        huge = b"GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (8 << 20) + b"\r\n\r\n"
        many = b"GET /hello HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(5000)) + b"\r\n"
        fine = b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + b"X-A: v\r\n" * 90 + b"\r\n"
        too_large, too_many, served_fine = [await send_head(host, port, head) for head in (huge, many, fine)]
    assert too_large.startswith(b"HTTP/1.1 431 ") and too_large.endswith(b'{"error": "Request headers too large"}')
    assert too_many.startswith(b"HTTP/1.1 431 ") and too_many.endswith(b'{"error": "More than 100 headers"}')
    assert served_fine.startswith(b"HTTP/1.1 200 ") and served_fine.endswith(b'{"hello":"world"}')


async def test_a_websocket_frame_over_the_largest_message_is_refused_from_its_header():
    """Only the header of a frame one byte over the limit is sent: the close (1009) comes
    before any of its payload, so the server cannot be buffering it."""
    limit = websocket_max_message_bytes(Settings())
    assert limit == 1024 * 1024
    async with served() as (host, port), connect(f"ws://{host}:{port}/held") as socket:
        header = struct.pack("!BBQ", 0x82, 0x80 | 127, limit + 1) + os.urandom(4)
        socket.transport.write(header)
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), PATIENCE)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009

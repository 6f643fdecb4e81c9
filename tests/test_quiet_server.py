"""`QuietServer`: uvicorn's server with a once-a-second tick, stopping at once when asked."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

from api.server import quiet_server
from api.server.quiet_server import QuietServer

ROOT = Path(__file__).resolve().parents[1]


class CountingServer(QuietServer):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ticks = 0
        self._ticked = asyncio.Event()

    async def on_tick(self, counter: int) -> bool:
        self.ticks += 1
        self._ticked.set()
        return await super().on_tick(counter)

    async def ticks_reach(self, count: int) -> None:
        while self.ticks < count:
            self._ticked.clear()
            await self._ticked.wait()


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/")
    async def root() -> dict:
        return {"ok": True}

    return app


async def _started() -> tuple[CountingServer, asyncio.Task, str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = CountingServer(uvicorn.Config(_app(), log_level="warning", lifespan="off"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        assert not serving.done(), "the server did not start"
        await asyncio.sleep(0.01)
    return server, serving, f"http://127.0.0.1:{sock.getsockname()[1]}"


async def test_ticks_once_a_second_and_keeps_the_date_header_current():
    server, serving, base = await _started()
    try:
        async with httpx.AsyncClient(base_url=base) as http:
            first = (await http.get("/")).headers["date"]
            ticks = server.ticks
            await asyncio.sleep(1.5)
            # Ticks come no faster than the period, however loaded the machine (uvicorn's: 15).
            assert server.ticks - ticks <= 1.5 / quiet_server.TICK_SECONDS + 1
            await asyncio.wait_for(server.ticks_reach(ticks + 2), 30)
            assert (await http.get("/")).headers["date"] != first  # two ticks: over a second later
    finally:
        server.stop()
        await serving


async def test_stop_does_not_wait_for_the_tick(monkeypatch):
    monkeypatch.setattr(quiet_server, "TICK_SECONDS", 3600.0)
    server, serving, _ = await _started()
    await asyncio.wait_for(server.ticks_reach(1), 30)
    server.stop()
    await asyncio.wait_for(serving, 30)  # an hour's tick would time this out


# In a process of its own: uvicorn re-raises the signal once it has shut down.
SIGNALLED_SERVER = """
import os, signal, threading, time, uvicorn
from api.server import quiet_server
from tests.test_quiet_server import _app
quiet_server.TICK_SECONDS = 3600.0
server = quiet_server.QuietServer(uvicorn.Config(_app(), port=0, log_level="warning", lifespan="off"))
def terminate_once_serving():
    while not server.started:
        time.sleep(0.01)
    time.sleep(0.2)  # into the tick's wait
    os.kill(os.getpid(), signal.SIGTERM)
threading.Thread(target=terminate_once_serving, daemon=True).start()
server.run()
"""


def test_a_signal_does_not_wait_for_the_tick():
    command = [sys.executable, "-c", SIGNALLED_SERVER]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == -signal.SIGTERM, done.stderr


async def test_a_stop_before_serving_is_kept():
    server = QuietServer(uvicorn.Config(_app(), log_level="warning", lifespan="off"))
    server.stop()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    await asyncio.wait_for(server.serve(sockets=[sock]), 30)
    assert server.should_exit

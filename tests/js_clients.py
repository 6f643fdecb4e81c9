"""The real JavaScript clients of tests/js, driven from pytest against a server in the test's event loop.

    async with live_server(app) as base_url:                # http://127.0.0.1:<free port>
        async with StompClient.start({"url": f"{base_url}/ws", "subscribe": ["/topic/x"]}) as client:
            assert (await client.expect("connected"))["headers"]["version"] == "1.2"
            message = await client.expect("message")

`StompClient` runs `node tests/js/stomp_client.mjs <spec>` (the spec is documented there) and reads
its JSON event lines. `require_node_clients()` skips the test when Node.js or the npm packages are
missing (`source scripts/lib/node.sh && ensure_node_clients` installs them).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import shutil
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn

from api.cli import WEBSOCKET_PROTOCOL

JS_DIR = Path(__file__).resolve().parent / "js"
STOMP_CLIENT = JS_DIR / "stomp_client.mjs"
EVENT_TIMEOUT_SECONDS = 20.0


def require_node_clients() -> str:
    """The path of `node`; skips the calling test when Node.js or tests/js/node_modules is missing."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed: the real JavaScript client tests need `node` (18 or newer)")
    if not (JS_DIR / "node_modules" / "@stomp" / "stompjs").is_dir():
        pytest.skip("tests/js/node_modules is missing: run `source scripts/lib/node.sh && ensure_node_clients`")
    return node


@contextlib.asynccontextmanager
async def live_server(app, port: int = 0, **config) -> AsyncIterator[str]:
    """Serves `app` with uvicorn (lifespan included) on loopback `port` (0: a free one) of the running loop."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit TCP_NODELAY: without it a request on a kept-alive connection can wait
    # ~40 ms for a delayed ACK (Nagle).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", port))
    port = sock.getsockname()[1]
    settings = {
        "log_level": "warning",
        "lifespan": "on",
        "timeout_graceful_shutdown": 2,
        "ws": WEBSOCKET_PROTOCOL,
        **config,
    }
    server = uvicorn.Server(uvicorn.Config(app, **settings))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(500):
            if server.started or serving.done():
                break
            await asyncio.sleep(0.01)
        if not server.started:
            raise RuntimeError("uvicorn did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving
        sock.close()


class StompClient:
    """One `stomp_client.mjs` process: its events, in order, and commands to its stdin."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.events: list[dict] = []
        assert process.stderr is not None
        # Drained all along, so that a chatty client (spec "debug") never blocks on a full pipe.
        self._stderr = asyncio.create_task(process.stderr.read())

    @staticmethod
    def script() -> tuple[str, Path]:
        """(the `node` binary, the client script) for this kind of client; skips the test when missing."""
        return require_node_clients(), STOMP_CLIENT

    @classmethod
    @contextlib.asynccontextmanager
    async def start(cls, spec: dict) -> AsyncIterator[StompClient]:
        node, script = cls.script()
        process = await asyncio.create_subprocess_exec(
            node,
            str(script),
            json.dumps(spec),
            cwd=JS_DIR,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        client = cls(process)
        try:
            yield client
        finally:
            await client.finish()

    async def next_event(self, within: float = EVENT_TIMEOUT_SECONDS) -> dict:
        assert self.process.stdout is not None
        try:
            line = await asyncio.wait_for(self.process.stdout.readline(), within)
        except TimeoutError:
            raise AssertionError(f"no event from the client within {within} s; so far: {self.events}") from None
        if not line:
            raise AssertionError(f"the client exited; events: {self.events}; stderr: {await self.stderr()}")
        event = json.loads(line)
        self.events.append(event)
        return event

    async def expect(self, kind: str, within: float = EVENT_TIMEOUT_SECONDS) -> dict:
        """The next event, which must be of `kind` (`subscribed` events are passed over)."""
        event = await self.next_event(within)
        while event["event"] == "subscribed" and kind != "subscribed":
            event = await self.next_event(within)
        assert event["event"] == kind, f"expected {kind!r}, got {event}; events so far: {self.events}"
        return event

    async def messages(self, count: int, within: float = EVENT_TIMEOUT_SECONDS) -> list[dict]:
        return [await self.expect("message", within) for _ in range(count)]

    async def command(self, **command) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps(command) + "\n").encode())
        await self.process.stdin.drain()

    async def wait(self, within: float = EVENT_TIMEOUT_SECONDS) -> int:
        """Waits for the process to exit on its own and returns its exit code."""
        try:
            return await asyncio.wait_for(self.process.wait(), within)
        except TimeoutError:
            raise AssertionError(f"the client did not exit within {within} s; events: {self.events}") from None

    async def remaining_events(self, within: float = EVENT_TIMEOUT_SECONDS) -> list[dict]:
        """Every event printed until the process exits."""
        events = []
        assert self.process.stdout is not None
        while line := await asyncio.wait_for(self.process.stdout.readline(), within):
            events.append(json.loads(line))
        self.events += events
        return events

    async def finish(self) -> int:
        """Closes stdin (the client disconnects), then makes sure the process is gone."""
        if self.process.returncode is None and self.process.stdin is not None:
            with contextlib.suppress(ConnectionError):
                self.process.stdin.close()
        try:
            code = await asyncio.wait_for(self.process.wait(), 10)
        except TimeoutError:
            self.process.kill()
            code = await self.process.wait()
        await self._stderr
        return code

    async def stderr(self) -> str:
        """What the client wrote to stderr, once it has exited."""
        with contextlib.suppress(TimeoutError):
            return (await asyncio.wait_for(asyncio.shield(self._stderr), 5)).decode(errors="replace")
        return ""


YJS_CLIENT = JS_DIR / "yjs_client.mjs"
YJS_PACKAGES = ("@hocuspocus/provider", "y-websocket", "y-protocols", "yjs")


def require_yjs_clients() -> str:
    """Like `require_node_clients`, for the Yjs providers `yjs_client.mjs` runs."""
    node = require_node_clients()
    missing = [name for name in YJS_PACKAGES if not (JS_DIR / "node_modules" / name).is_dir()]
    if missing:
        names = ", ".join(missing)
        pytest.skip(f"tests/js/node_modules lacks {names}: run `source scripts/lib/node.sh && ensure_node_clients`")
    return node


class YjsClient(StompClient):
    """One `yjs_client.mjs` process (its spec is documented there): its events, and edit commands.

        async with YjsClient.start({"url": f"{ws_url}/collab/ws", "token": jwt}) as client:
            await client.wait_for("synced")
            await client.command(op="insert", index=0, text="x")
            assert (await client.state())["text"] == "x"

    Events of several documents and providers interleave, so `wait_for` waits for a matching event
    whenever it came, rather than for the next one.
    """

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        super().__init__(process)
        self._claimed: set[int] = set()

    @staticmethod
    def script() -> tuple[str, Path]:
        return require_yjs_clients(), YJS_CLIENT

    async def wait_for(self, kind: str, within: float = EVENT_TIMEOUT_SECONDS, **fields) -> dict:
        """The first event of `kind` with these field values not returned before, read or still to come."""

        def matches(event: dict) -> bool:
            return event["event"] == kind and all(event.get(name) == value for name, value in fields.items())

        for index, event in enumerate(self.events):
            if index not in self._claimed and matches(event):
                self._claimed.add(index)
                return event
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            try:
                event = await self.next_event(max(0.0, deadline - loop.time()))
            except AssertionError as error:
                raise AssertionError(f"waiting for a {kind} event with {fields}: {error}") from None
            if matches(event):
                self._claimed.add(len(self.events) - 1)
                return event

    def seen(self, kind: str, **fields) -> list[dict]:
        """The events of `kind` with these field values read so far."""
        return [
            event
            for event in self.events
            if event["event"] == kind and all(event.get(name) == value for name, value in fields.items())
        ]

    async def state(self, doc: str | None = None) -> dict:
        """The document's text and sync state now (the `print` command)."""
        await self.command(op="print", **({"doc": doc} if doc is not None else {}))
        return await self.wait_for("state", **({"doc": doc} if doc is not None else {}))


@contextlib.asynccontextmanager
async def unhandled_exceptions_fail() -> AsyncIterator[None]:
    """Fails the test if its event loop reported an exception nobody observed (a crashed task)."""
    loop = asyncio.get_running_loop()
    seen: list[dict] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: seen.append(context))
    try:
        yield
        gc.collect()
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(previous)
    assert not seen, [f"{context.get('message')}: {context.get('exception')!r}" for context in seen]


@dataclass
class LiveServer:
    """A router on a live uvicorn (`live_server`); `paths` lists what its `resolve` saw."""

    base_url: str
    paths: list[str] = field(default_factory=list, kw_only=True)

    @property
    def ws_url(self) -> str:
        return "ws" + self.base_url.removeprefix("http")


LEGACY_STOMP_CLIENT = JS_DIR / "legacy_stomp_client.mjs"


class LegacyStompClient(StompClient):
    """One `legacy_stomp_client.mjs` process: seed 001's test.html client (stompjs 2.x, sockjs-client 1.x)."""

    @staticmethod
    def script() -> tuple[str, Path]:
        node = require_node_clients()
        if not (JS_DIR / "node_modules" / "stompjs").is_dir():
            pytest.skip("tests/js/node_modules lacks stompjs: run `source scripts/lib/node.sh && ensure_node_clients`")
        return node, LEGACY_STOMP_CLIENT

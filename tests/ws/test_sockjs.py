"""The SockJS endpoints on a live server, spoken to at the wire level (httpx and the websockets library)."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import unquote

import httpx
import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from api.contest.stomp.frames import Frame, FrameParser, encode_frame
from api.contest.stomp.routes import mount_ws
from api.contest.stomp.session import StompLimits
from api.contest.stomp.sockjs import SockJSLimits
from api.server.connection_caps import ConnectionCaps
from api.server.socket_routes import SocketRoutes
from tests.ws.fakes import FakeApplication

CONNECT = encode_frame(Frame("CONNECT", (("accept-version", "1.2,1.1,1.0"), ("heart-beat", "0,0")))).decode()
SUBSCRIBE = encode_frame(Frame("SUBSCRIBE", (("id", "sub-0"), ("destination", "/topic/room/1")))).decode()
NO_BEATS = StompLimits(heartbeat_send_ms=0, heartbeat_receive_ms=0)


def stomp(payload: str) -> list[Frame]:
    """The STOMP frames inside one `a[...]` SockJS frame."""
    assert payload.startswith("a"), payload
    parser, frames = FrameParser(), []
    for message in json.loads(payload[1:]):
        parser.feed(message.encode())
        while (frame := parser.next_frame()) is not None:
            frames.append(frame)
    return frames


async def receive(websocket, within: float = 5.0) -> str:
    return await asyncio.wait_for(websocket.recv(), within)


async def test_info_answers_what_sockjs_client_needs(ws_server):
    async with httpx.AsyncClient(base_url=ws_server.base_url) as client:
        first = await client.get("/ws/info", headers={"Origin": "http://localhost:3000"})
        second = await client.get("/ws/info?token=abc")
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/json; charset=UTF-8"
    assert first.headers["cache-control"] == "no-store, no-cache, no-transform, must-revalidate, max-age=0"
    assert first.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert first.headers["access-control-allow-credentials"] == "true"
    body = first.json()
    assert {key: body[key] for key in ("websocket", "origins", "cookie_needed")} == {
        "websocket": True,
        "origins": ["*:*"],
        "cookie_needed": False,
    }
    assert 0 <= body["entropy"] < 2**32
    assert body["entropy"] != second.json()["entropy"]


async def test_info_preflight(ws_server):
    async with httpx.AsyncClient(base_url=ws_server.base_url) as client:
        response = await client.options(
            "/ws/info", headers={"Origin": "http://localhost:3000", "Access-Control-Request-Headers": "x-a"}
        )
    assert response.status_code == 204
    assert response.headers["access-control-allow-methods"] == "OPTIONS, GET"
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert response.headers["access-control-allow-headers"] == "x-a"


async def test_websocket_session_opens_then_carries_stomp_in_array_frames(ws_server):
    async with connect(f"{ws_server.ws_url}/ws/042/abcdefgh/websocket?token=user-5") as websocket:
        assert await receive(websocket) == "o"
        await websocket.send(json.dumps([CONNECT]))
        [connected] = stomp(await receive(websocket))
        assert connected.command == "CONNECTED"
        await websocket.send(json.dumps(SUBSCRIBE))  # a bare string is one message too
        [message] = stomp(await receive(websocket))
        assert json.loads(message.body) == {"destination": "/topic/room/1", "user": 5, "seq": 0}
        await websocket.send("")
        ws_server.application.push("/topic/room/1", {"seq": 1, "text": "wörld\n%"})
        [pushed] = stomp(await receive(websocket))
        assert json.loads(pushed.body) == {"seq": 1, "text": "wörld\n%"}
    assert ws_server.application.tokens == ["user-5"]


async def test_a_stomp_frame_may_span_sockjs_messages(ws_server):
    async with connect(f"{ws_server.ws_url}/ws/1/session1/websocket") as websocket:
        assert await receive(websocket) == "o"
        await websocket.send(json.dumps([CONNECT[:10], CONNECT[10:] + SUBSCRIBE]))
        frames = stomp(await receive(websocket)) + stomp(await receive(websocket))
        assert [frame.command for frame in frames] == ["CONNECTED", "MESSAGE"]


@pytest.mark.parametrize("payload", ["not json", '{"a": 1}', "[1, 2]"])
async def test_broken_framing_closes_with_3000(ws_server, payload):
    async with connect(f"{ws_server.ws_url}/ws/1/session1/websocket") as websocket:
        assert await receive(websocket) == "o"
        await websocket.send(payload)
        assert await receive(websocket) == 'c[3000,"Broken framing."]'
        with pytest.raises(ConnectionClosed):
            await receive(websocket)


async def test_a_stomp_error_is_sent_before_the_sockjs_close(ws_server):
    async with connect(f"{ws_server.ws_url}/ws/1/session1/websocket") as websocket:
        assert await receive(websocket) == "o"
        await websocket.send(json.dumps([CONNECT]))
        stomp(await receive(websocket))
        denied = encode_frame(Frame("SUBSCRIBE", (("id", "0"), ("destination", "/topic/denied/1")))).decode()
        await websocket.send(json.dumps([denied]))
        [error] = stomp(await receive(websocket))
        assert error.header("message") == "Not a participant: cannot subscribe"
        assert await receive(websocket) == 'c[1000,"Normal closure"]'
    assert ws_server.application.feeds == {}


async def test_sockjs_heartbeat_frames(ws_server_factory):
    server = await ws_server_factory(NO_BEATS, SockJSLimits(heartbeat_seconds=0.05))
    async with connect(f"{server.ws_url}/ws/1/session1/websocket") as websocket:
        assert await receive(websocket) == "o"
        assert await receive(websocket) == "h"
        assert await receive(websocket) == "h"


async def test_closing_the_socket_closes_the_feeds(ws_server):
    async with connect(f"{ws_server.ws_url}/ws/1/session1/websocket") as websocket:
        assert await receive(websocket) == "o"
        await websocket.send(json.dumps([CONNECT, SUBSCRIBE]))
        await receive(websocket)
        await receive(websocket)
    [feed] = ws_server.application.feeds["/topic/room/1"]
    for _ in range(500):
        if feed.closed:
            break
        await asyncio.sleep(0.01)
    assert feed.closed


@pytest.mark.parametrize("path", ["/ws/1.0/session1/websocket", "/ws/1/a.b/websocket"])
async def test_session_urls_with_dots_are_not_found(ws_server, path):
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{ws_server.ws_url}{path}"):
            pass
    assert refused.value.response.status_code == 404
    async with httpx.AsyncClient(base_url=ws_server.base_url) as client:
        assert (await client.post(path.replace("websocket", "xhr"))).status_code == 404
        assert (await client.post("/ws/1/session1/nonsense")).status_code == 404
        assert (await client.get("/ws/iframe.html")).status_code == 404


@pytest.mark.parametrize(
    ("offered", "selected"),
    [
        (["v10.stomp", "v12.stomp", "v11.stomp"], "v12.stomp"),
        (["v11.stomp"], "v11.stomp"),
        (["mqtt"], None),
        (None, None),
    ],
)
async def test_raw_websocket_selects_a_stomp_subprotocol(ws_server, offered, selected):
    async with connect(f"{ws_server.ws_url}/ws/websocket", subprotocols=offered) as websocket:
        assert websocket.subprotocol == selected
        await websocket.send(CONNECT)
        reply = await receive(websocket)
        assert reply.startswith("CONNECTED\nversion:1.2\n")


async def test_raw_websocket_takes_binary_and_split_frames(ws_server):
    async with connect(f"{ws_server.ws_url}/ws/websocket?token=user-2", subprotocols=["v12.stomp"]) as websocket:
        await websocket.send(CONNECT.encode()[:7])
        await websocket.send(CONNECT.encode()[7:] + b"\n" + SUBSCRIBE.encode())
        assert (await receive(websocket)).startswith("CONNECTED")
        message = await receive(websocket)
        assert message.startswith("MESSAGE\n") and message.endswith('"user": 2, "seq": 0}\x00')


async def test_raw_websocket_protocol_error_gets_error_then_close(ws_server):
    async with connect(f"{ws_server.ws_url}/ws/websocket") as websocket:
        await websocket.send("CONNECT\nbroken header\n\n\x00")
        assert (await receive(websocket)).startswith("ERROR\nmessage:Header line without ':' in a CONNECT frame\n")
        with pytest.raises(ConnectionClosed):
            await receive(websocket)
        assert websocket.close_code == 1000


# HTTP transports


async def test_xhr_polling_session(ws_server):
    base = "/ws/000/polling1"
    async with httpx.AsyncClient(base_url=ws_server.base_url) as client:
        opened = await client.post(f"{base}/xhr?token=user-8")
        assert (opened.status_code, opened.text) == (200, "o\n")
        assert opened.headers["content-type"] == "application/javascript; charset=UTF-8"
        sent = await client.post(f"{base}/xhr_send", content=json.dumps([CONNECT, SUBSCRIBE]))
        assert sent.status_code == 204
        polled = await client.post(f"{base}/xhr")
        assert polled.text.endswith("\n")
        frames = stomp(polled.text.rstrip("\n"))
        while len(frames) < 2:
            frames += stomp((await client.post(f"{base}/xhr")).text.rstrip("\n"))
        assert [frame.command for frame in frames] == ["CONNECTED", "MESSAGE"]
        assert json.loads(frames[1].body)["user"] == 8


async def test_xhr_send_errors(ws_server):
    async with httpx.AsyncClient(base_url=ws_server.base_url) as client:
        unknown = await client.post("/ws/000/nosuch/xhr_send", content='["x"]')
        assert unknown.status_code == 404
        assert (await client.post("/ws/000/errors1/xhr")).text == "o\n"
        empty = await client.post("/ws/000/errors1/xhr_send", content="")
        assert (empty.status_code, empty.text) == (500, "Payload expected.")
        broken = await client.post("/ws/000/errors1/xhr_send", content="[nope")
        assert (broken.status_code, broken.text) == (500, "Broken JSON encoding.")


async def test_xhr_send_preflight(ws_server):
    async with httpx.AsyncClient(base_url=ws_server.base_url) as client:
        response = await client.options("/ws/000/abc/xhr_send", headers={"Origin": "http://localhost:3000"})
    assert response.status_code == 204
    assert response.headers["access-control-allow-methods"] == "OPTIONS, POST"
    assert response.headers["access-control-allow-credentials"] == "true"


async def test_xhr_streaming_prelude_frames_and_response_limit(ws_server_factory):
    server = await ws_server_factory(NO_BEATS, SockJSLimits(response_limit_bytes=300))
    base = "/ws/000/stream01"
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        async with client.stream("POST", f"{base}/xhr_streaming") as response:
            assert response.headers["content-type"] == "application/javascript; charset=UTF-8"
            lines = response.aiter_lines()
            assert await anext(lines) == "h" * 2048
            assert await anext(lines) == "o"
            await client.post(f"{base}/xhr_send", content=json.dumps([CONNECT, SUBSCRIBE]))
            frames = []
            async for line in lines:
                frames += stomp(line)
        # The response ended after 300 bytes; the next request goes on with the same session.
        assert [frame.command for frame in frames] == ["CONNECTED", "MESSAGE"]
        server.application.push("/topic/room/1", {"seq": 1})
        async with client.stream("POST", f"{base}/xhr_streaming") as response:
            lines = response.aiter_lines()
            assert await anext(lines) == "h" * 2048
            assert json.loads(stomp(await anext(lines))[0].body) == {"seq": 1}


async def test_a_second_receiving_request_is_refused_with_2010_until_the_first_goes_away(ws_server_factory):
    server = await ws_server_factory(NO_BEATS, SockJSLimits(heartbeat_seconds=0.1))
    base = "/ws/000/twice001"
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        async with client.stream("POST", f"{base}/xhr_streaming") as response:
            lines = response.aiter_lines()
            await anext(lines)
            assert await anext(lines) == "o"
            second = await client.post(f"{base}/xhr")
            assert second.text == 'c[2010,"Another connection still open"]\n'
        # The streaming request was dropped by the client: polling may take over the session.
        for _ in range(100):
            polled = (await client.post(f"{base}/xhr")).text
            if not polled.startswith("c[2010"):
                break
            await asyncio.sleep(0.01)
        assert polled == "h\n"


async def test_a_websocket_message_over_the_limit_closes_the_session(ws_server_factory):
    server = await ws_server_factory(NO_BEATS, SockJSLimits(max_message_bytes=100))
    async with connect(f"{server.ws_url}/ws/1/session1/websocket") as websocket:
        assert await receive(websocket) == "o"
        await websocket.send(json.dumps(["x" * 200]))
        assert await receive(websocket) == 'c[1009,"Message too big"]'


async def test_eventsource_frames_are_escaped_for_decode_uri(ws_server):
    base = "/ws/000/events01"

    def event_frames(chunk: str) -> list[Frame]:
        assert chunk.startswith("data: ") and chunk.endswith("\r\n\r\n"), chunk
        data = chunk.removeprefix("data: ").removesuffix("\r\n\r\n")
        assert "\n" not in data and "\r" not in data
        return stomp(unquote(data))  # what the client's decodeURI gives back

    async with httpx.AsyncClient(base_url=ws_server.base_url) as client:
        async with client.stream("GET", f"{base}/eventsource") as response:
            assert response.headers["content-type"] == "text/event-stream; charset=UTF-8"
            chunks = response.aiter_text()
            assert await anext(chunks) == "\r\n"
            assert await anext(chunks) == "data: o\r\n\r\n"
            await client.post(f"{base}/xhr_send", content=json.dumps([CONNECT, SUBSCRIBE]))
            frames = []
            while len(frames) < 2:
                frames += event_frames(await anext(chunks))
            assert [frame.command for frame in frames] == ["CONNECTED", "MESSAGE"]
            ws_server.application.push("/topic/room/1", {"text": "100%41"})
            pushed = await anext(chunks)
    assert "100%2541" in pushed
    assert json.loads(event_frames(pushed)[0].body) == {"text": "100%41"}


async def test_an_abandoned_http_session_is_forgotten_and_its_feeds_closed(ws_server_factory):
    server = await ws_server_factory(NO_BEATS, SockJSLimits(disconnect_delay_seconds=0.1))
    base = "/ws/000/forget01"
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        assert (await client.post(f"{base}/xhr")).text == "o\n"
        assert (await client.post(f"{base}/xhr_send", content=json.dumps([CONNECT, SUBSCRIBE]))).status_code == 204
        [feed] = await server.application.wait_for_feeds("/topic/room/1", 1)
        status = 204
        for _ in range(500):
            status = (await client.post(f"{base}/xhr_send", content='["\\n"]')).status_code
            if status == 404:
                break
            await asyncio.sleep(0.01)
    assert status == 404
    assert feed.closed


async def test_a_stomp_disconnect_reaches_the_poller_as_a_close_frame(ws_server):
    base = "/ws/000/discon01"
    disconnect = encode_frame(Frame("DISCONNECT", (("receipt", "close-1"),))).decode()
    async with httpx.AsyncClient(base_url=ws_server.base_url) as client:
        await client.post(f"{base}/xhr")
        await client.post(f"{base}/xhr_send", content=json.dumps([CONNECT, disconnect]))
        bodies = []
        while not bodies or not bodies[-1].startswith("c"):
            bodies.append((await client.post(f"{base}/xhr")).text.rstrip("\n"))
    frames = [frame for body in bodies[:-1] for frame in stomp(body)]
    assert [frame.command for frame in frames] == ["CONNECTED", "RECEIPT"]
    assert bodies[-1] == 'c[1000,"Normal closure"]'


async def test_http_sessions_are_limited(ws_server_factory):
    server = await ws_server_factory(NO_BEATS, SockJSLimits(max_sessions=1))
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        assert (await client.post("/ws/000/first001/xhr")).status_code == 200
        refused = await client.post("/ws/000/second01/xhr")
    assert (refused.status_code, refused.text) == (503, "Too many sessions")


async def test_xhr_send_bodies_are_limited(ws_server_factory):
    server = await ws_server_factory(NO_BEATS, SockJSLimits(max_message_bytes=100))
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        await client.post("/ws/000/limit001/xhr")
        response = await client.post("/ws/000/limit001/xhr_send", content=json.dumps(["x" * 200]))
    assert response.status_code == 413


async def test_off_uvicorn_the_asgi_receive_serves_both_websocket_paths():
    """Starlette's TestClient is no uvicorn: the sockets read the ASGI receive instead."""
    app = FastAPI()
    app.add_middleware(SocketRoutes, routes=mount_ws(app, lambda _connection: FakeApplication()))

    def drive() -> tuple[str, str, str]:
        with TestClient(app) as client:
            with client.websocket_connect("/ws/1/session1/websocket") as sockjs:
                opened = sockjs.receive_text()
                sockjs.send_text("not json")
                closed = sockjs.receive_text()
            with client.websocket_connect("/ws/websocket") as raw:
                raw.send_text(encode_frame(Frame("CONNECT", (("accept-version", "1.2"), ("host", "x")))).decode())
                connected = raw.receive_text()
        return opened, closed, connected

    opened, closed, connected = await asyncio.to_thread(drive)
    assert (opened, closed) == ("o", 'c[3000,"Broken framing."]')
    assert connected.startswith("CONNECTED\n")


async def test_only_allowed_origins_are_served_and_echoed(ws_server):
    async with httpx.AsyncClient(base_url=ws_server.base_url) as client:
        for path, method in (("/ws/info", "GET"), ("/ws/info", "OPTIONS"), ("/ws/000/evil1/xhr", "POST"),
                             ("/ws/000/evil1/xhr_send", "POST"), ("/ws/000/evil1/xhr_streaming", "POST"),
                             ("/ws/000/evil1/eventsource", "GET")):  # fmt: skip
            refused = await client.request(method, path, headers={"Origin": "http://evil.example"})
            assert (refused.status_code, refused.json()) == (403, {"error": "Origin not allowed"}), path
            assert "access-control-allow-origin" not in refused.headers
        from_file = await client.get("/ws/info", headers={"Origin": "null"})
        assert from_file.headers["access-control-allow-origin"] == "null"
        with_cookie = await client.get("/ws/info", headers={"Origin": "null", "Cookie": "jwt_access_token=x"})
        assert with_cookie.status_code == 403
    with pytest.raises(InvalidStatus) as denied:
        async with connect(ws_server.base_url.replace("http", "ws") + "/ws/000/evil2/websocket",
                           additional_headers={"Origin": "http://evil.example"}):  # fmt: skip
            pass
    assert denied.value.response.status_code == 403


async def test_http_sessions_and_websockets_count_together_under_the_socket_caps(ws_server_factory):
    caps = ConnectionCaps(per_ip=2, per_user=2)
    server = await ws_server_factory(NO_BEATS, caps=caps)
    ws_url = server.base_url.replace("http", "ws")
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        assert (await client.post("/ws/000/capped1/xhr")).text == "o\n"
        async with connect(f"{ws_url}/ws/000/capped2/websocket") as socket:
            assert await receive(socket) == "o"
            over = await client.post("/ws/000/capped3/xhr")
            assert over.status_code == 429 and "at most 2" in over.json()["error"]
            with pytest.raises(InvalidStatus) as refused:
                async with connect(f"{ws_url}/ws/websocket"):
                    pass
            assert refused.value.response.status_code == 429
        for _ in range(200):
            if caps.open_count(ip="127.0.0.1") < 2:
                break
            await asyncio.sleep(0.01)
        assert (await client.post("/ws/000/capped4/xhr")).text == "o\n"

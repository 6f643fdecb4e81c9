"""Matchmaking over HTTP and SSE against a live server on real Ray (seed 000's matching-service)."""

from __future__ import annotations

import asyncio
import contextlib
import json

import httpx
import pytest
import pytest_asyncio

from actors.matching.pool import user_topic
from api.app import create_app
from tests.conftest import bearer, make_settings
from tests.contest.apps import kill_namespace, login, seed_contest_database
from tests.js_clients import live_server

pytestmark = pytest.mark.asyncio(loop_scope="module")


class Server:
    def __init__(self, http: httpx.AsyncClient, app) -> None:
        self.http = http
        self.app = app

    def subscribers(self, user_id: int) -> int:
        return self.app.state.services.actors.bus.fanout.subscribers(user_topic(user_id))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(ray_session, database_url, tmp_path_factory):
    await seed_contest_database(database_url)
    data_dir = tmp_path_factory.mktemp("matching")
    namespace = f"test-match-{data_dir.name[-6:]}"
    settings = make_settings(database_url, data_dir, actors_enabled=True, actor_namespace=namespace,
                             dev_login=True, matching_heartbeat_seconds=0.3)  # fmt: skip
    app = create_app(settings)
    try:
        async with live_server(app) as base_url, httpx.AsyncClient(base_url=base_url, timeout=30) as http:
            yield Server(http, app)
    finally:
        kill_namespace(namespace)


def ask(user_id: int, language="Python", difficulty="Easy", topic="Arrays", ttl_ms=60_000) -> dict:
    return {"userId": str(user_id), "languageIn": language, "difficultyIn": difficulty, "topicIn": topic,
            "ttlMs": ttl_ms}  # fmt: skip


async def sse_events(http: httpx.AsyncClient, user_id: int, auth: dict, into: list, **params) -> None:
    async with http.stream("GET", f"/matching/events/{user_id}", headers=auth, params=params) as stream:
        assert stream.status_code == 200
        event = None
        async for line in stream.aiter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: "):
                into.append((event, json.loads(line.removeprefix("data: "))))


async def until(condition, patience: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    while not condition():
        assert loop.time() < deadline, "condition never held"
        await asyncio.sleep(0.02)


async def test_two_users_match_over_http_and_sse(server):
    http = server.http
    (alice, alice_auth), (bob, bob_auth) = await login(http), await login(http)
    topic = f"Arrays-{alice}"
    queued = await http.post("/matching/requests", json=ask(alice, topic=["Graphs", topic]), headers=alice_auth)
    assert queued.status_code == 202, queued.text
    assert queued.json() == {"status": "queued", "userId": str(alice), "position": queued.json()["position"]}
    status = (await http.get(f"/matching/status/{alice}", headers=alice_auth)).json()
    assert status["status"] == "QUEUED" and status["position"] >= 1

    seen: list = []
    watcher = asyncio.create_task(sse_events(http, alice, alice_auth, seen))
    await until(lambda: ("heartbeat", {}) in seen)
    matched = await http.post("/matching/requests", json=ask(bob, language=["java", "python"], topic=topic),
                              headers=bob_auth)  # fmt: skip
    assert matched.status_code == 200, matched.text
    body = matched.json()
    assert (body["status"], body["userId"], body["partnerId"]) == ("matched", str(bob), str(alice))
    assert (body["language"], body["difficulty"], body["topic"]) == ("Python", "Easy", topic)
    assert isinstance(body["questionId"], int)
    session = body["session"]
    assert session["id"] == body["roomId"] and {session["user1ID"], session["user2ID"]} == {str(alice), str(bob)}
    assert session["status"] == "ACTIVE" and session["language"] == "python"

    await asyncio.wait_for(watcher, 15)  # the stream ends after MATCH_FOUND
    event, data = seen[-1]
    assert event == "MATCH_FOUND"
    assert data == {"roomId": body["roomId"], "topic": topic, "difficulty": "Easy", "language": "Python",
                    "questionId": body["questionId"], "partnerId": str(bob)}  # fmt: skip
    assert server.subscribers(alice) == 0
    after = (await http.get(f"/matching/status/{alice}", headers=alice_auth)).json()
    assert after["status"] == "MATCHED" and after["match"]["partnerId"] == str(bob)
    # A late watcher still learns of the match.
    late: list = []
    await asyncio.wait_for(sse_events(http, bob, bob_auth, late), 15)
    assert late[0][0] == "MATCH_FOUND" and late[0][1]["partnerId"] == str(alice)


async def test_expiry_sends_timeout_and_a_gone_client_leaves_nothing(server):
    http = server.http
    carol, carol_auth = await login(http)
    await http.post("/matching/requests", json=ask(carol, topic=f"Lonely-{carol}", ttl_ms=1500), headers=carol_auth)
    seen: list = []
    await asyncio.wait_for(sse_events(http, carol, carol_auth, seen), 15)
    assert seen[0] == ("heartbeat", {}) and seen[-1] == ("TIMEOUT", {})
    assert (await http.get(f"/matching/status/{carol}", headers=carol_auth)).json()["status"] == "EXPIRED"

    dave, dave_auth = await login(http)
    await http.post("/matching/requests", json=ask(dave, topic=f"Lonely-{dave}"), headers=dave_auth)
    watching: list = []
    watcher = asyncio.create_task(sse_events(http, dave, dave_auth, watching))
    await until(lambda: len(watching) >= 2)  # heart-beats arrive
    assert server.subscribers(dave) == 1
    watcher.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await watcher
    await until(lambda: server.subscribers(dave) == 0)
    cancelled = await http.post("/matching/cancel", json={"userId": str(dave)}, headers=dave_auth)
    assert cancelled.json() == {"userId": str(dave), "status": "CANCELLED"}
    assert (await http.get(f"/matching/status/{dave}", headers=dave_auth)).json()["status"] == "CANCELLED"


async def test_the_stream_ends_with_timeout_after_its_own_ttl(server):
    http = server.http
    erin, erin_auth = await login(http)
    seen: list = []
    await asyncio.wait_for(sse_events(http, erin, erin_auth, seen, ttlMs=1000), 15)
    assert seen[-1] == ("TIMEOUT", {})
    assert server.subscribers(erin) == 0


async def test_only_your_own_requests_and_bad_input(server):
    http = server.http
    (frank, frank_auth), (_grace, grace_auth) = await login(http), await login(http)
    assert (await http.post("/matching/requests", json=ask(frank), headers=grace_auth)).status_code == 403
    assert (await http.get(f"/matching/status/{frank}", headers=grace_auth)).status_code == 403
    assert (await http.get(f"/matching/events/{frank}", headers=grace_auth)).status_code == 403
    assert (await http.post("/matching/cancel", json={"userId": str(frank)}, headers=grace_auth)).status_code == 403
    assert (await http.post(f"/matching/signal/{frank}", json={"roomId": "r"}, headers=grace_auth)).status_code == 403
    assert (await http.post("/matching/requests", json=ask(frank))).status_code == 401
    empty = await http.post("/matching/requests", json=ask(frank, topic=[]), headers=frank_auth)
    assert empty.status_code == 400 and "topicIn" in empty.json()["error"]
    assert (await http.post("/matching/requests", json=ask(frank, ttl_ms=5), headers=frank_auth)).status_code == 400
    assert (await http.get("/matching/status/abc", headers=frank_auth)).status_code == 400
    missing = await http.get(f"/matching/status/{frank}", headers=frank_auth)
    assert missing.status_code == 404 and missing.json() == {"error": "No match request for this user"}
    assert (await http.get(f"/matching/status/{frank}", headers=bearer("nope"))).status_code == 401


async def test_streams_over_the_per_user_cap_get_429_until_one_closes(server):
    http = server.http
    user, auth = await login(http)
    cap = server.app.state.services.settings.sse_streams_per_user
    async with contextlib.AsyncExitStack() as streams:
        opened = [await streams.enter_async_context(http.stream("GET", f"/matching/events/{user}", headers=auth))
                  for _ in range(cap)]  # fmt: skip
        assert [stream.status_code for stream in opened] == [200] * cap
        over = await http.get(f"/matching/events/{user}", headers=auth)
        assert over.status_code == 429 and f"at most {cap}" in over.json()["error"]
        await opened[0].aclose()
        await until(lambda: server.app.state.stream_caps.open_count(user=user) < cap)
        async with http.stream("GET", f"/matching/events/{user}", headers=auth) as again:
            assert again.status_code == 200
    await until(lambda: server.app.state.stream_caps.open_count(user=user) == 0)


async def test_a_stream_by_cookie_from_another_origin_is_refused(server):
    http = server.http
    user, auth = await login(http)
    cookie = {"Cookie": f"jwt_access_token={auth['Authorization'].removeprefix('Bearer ')}"}
    refused = await http.get(f"/matching/events/{user}", headers={**cookie, "Origin": "http://evil.example"})
    assert refused.status_code == 403 and refused.json() == {"error": "Origin not allowed"}
    frontend = server.app.state.services.settings.frontend_origins[0]
    async with http.stream("GET", f"/matching/events/{user}", headers={**cookie, "Origin": frontend}) as allowed:
        assert allowed.status_code == 200

"""The PeerPrep gateway's paths (`/user`, `/questionBank`, `/attempt`, `/match`, `/collab`, `/run`)
from outside: a live server with its actor runtime, real HTTP (httpx), real SSE, and the real
Hocuspocus provider on `/collab/ws/{roomId}` authenticated by the cookie alone, as the PeerPrep
frontend uses them, with the refusals (anonymous, the wrong user, the wrong origin, bad input).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid

import httpx
import pytest
import pytest_asyncio
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.conftest import bearer
from tests.contest.apps import contest_server
from tests.js_clients import YjsClient, require_yjs_clients

pytestmark = pytest.mark.asyncio(loop_scope="module")

FRONTEND = "http://frontend.example:8000"


@contextlib.asynccontextmanager
async def closing(*clients: httpx.AsyncClient):
    try:
        yield
    finally:
        for client in clients:
            await client.aclose()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(ray_session, database_url, tmp_path_factory):
    overrides = dict(run_per_window=3, frontend_url=FRONTEND, submission_max_bytes=2000)
    async with contest_server(database_url, tmp_path_factory.mktemp("gateway"), **overrides) as (base, http, app):
        yield base, http, app


async def signed_in(base: str) -> tuple[httpx.AsyncClient, dict]:
    """A browser-like client (its own cookie jar) registered and logged in through `/user`."""
    name = f"u{uuid.uuid4().hex[:10]}"
    client = httpx.AsyncClient(base_url=base, timeout=30)
    account = {"username": name, "email": f"{name}@e.com", "password": "pw-123"}
    registered = await client.post("/user/register", json=account)
    assert registered.status_code == 201, registered.text
    assert "set-cookie" not in registered.headers  # as the real service: registering signs nobody in
    logged_in = await client.post("/user/login", json={"email": f"{name}@e.com", "password": "pw-123"})
    assert logged_in.status_code == 200, logged_in.text
    return client, logged_in.json()


async def test_users_sign_in_refresh_and_out_on_the_gateway_paths(server):
    base, _, _ = server
    alice, me = await signed_in(base)
    bob, other = await signed_in(base)
    async with closing(alice, bob):
        refresh_cookie = next(c for c in alice.cookies.jar if c.name == "jwt_refresh_token")
        assert refresh_cookie.path == "/user"
        assert (await alice.get("/user")).json()["id"] == me["id"]
        assert (await alice.get(f"/user/{other['id']}")).json()["username"] == other["username"]
        change = {"currentPassword": "pw-123", "newUsername": "zzz-new"}
        refused = await alice.patch(f"/user/{other['id']}", json=change)
        assert refused.status_code == 403 and "error" in refused.json()
        # The PeerPrep frontend refreshes from several requests at once: each succeeds.
        refreshed = await asyncio.gather(*(alice.post("/user/refresh") for _ in range(3)))
        assert [response.status_code for response in refreshed] == [200, 200, 200]
        assert (await alice.get("/user")).status_code == 200
        assert (await alice.post("/user/logout")).status_code == 200
        assert (await alice.get("/user")).status_code == 401
        assert (await alice.post("/user/refresh")).status_code == 401
    async with httpx.AsyncClient(base_url=base) as anonymous:
        assert (await anonymous.get("/user")).json() == {"error": "Not authenticated"}


async def test_the_question_bank_pages_and_versions_questions_in_place(server):
    base, http, app = server
    user, _ = await signed_in(base)
    admin_token = app.state.services.tokens.issue(1, "ADMIN")
    admin = bearer(admin_token)
    async with closing(user):
        everything = (await user.get("/questionBank/questions?take=all")).json()
        assert set(everything) == {"items", "total", "skip"} and len(everything["items"]) == everything["total"] > 3
        topic = everything["items"][0]["topics"][0]
        assert set(topic) == {"questionId", "topicId", "topic"} and set(topic["topic"]) == {"id", "name"}
        page = (await user.get("/questionBank/questions?take=2&skip=1&orderBy=title")).json()
        assert (page["take"], page["skip"], len(page["items"]), page["total"]) == (2, 1, 2, everything["total"])
        for bad in ("take=0", "take=some", "take=101", "difficulty=Impossible", "orderBy=random"):
            assert (await user.get(f"/questionBank/questions?{bad}")).status_code == 400, bad
        topics = (await user.get("/questionBank/topics")).json()
        assert topics["count"] == len(topics["topics"]) > 0
        languages = (await user.get("/questionBank/languages")).json()
        assert {entry["name"] for entry in languages["languages"]} >= {"Python 3", "Java (OpenJDK)"}

        body = {"title": "Gateway echo", "statement": "Echo.", "difficulty": "Easy", "topicNames": ["Strings"],
                "exampleIO": [{"input": "a", "output": "a"}], "constraints": [],
                "solutionOutline": "print it"}  # fmt: skip
        assert (await user.post("/questionBank/questions", json=body)).status_code == 403
        created = await http.post("/questionBank/questions", json=body, headers=admin)
        assert created.status_code == 201
        question = created.json()["id"]
        assert (await user.patch(f"/questionBank/questions/{question}", json={"difficulty": "Hard"})).status_code == 403
        patched = await http.patch(f"/questionBank/questions/{question}", json={"id": question, "difficulty": "Hard"},
                                   headers=admin)  # fmt: skip
        assert (patched.status_code, patched.json()["id"], patched.json()["difficulty"]) == (200, question, "Hard")
        assert patched.json()["title"] == "Gateway echo"
        assert (await user.delete(f"/questionBank/questions/{question}")).status_code == 403
        deleted = await http.delete(f"/questionBank/questions/{question}", headers=admin)
        assert deleted.status_code == 204 and deleted.content == b""
        # Soft-deleted: out of the lists, still readable by id (attempts refer to it).
        assert question not in [q["id"] for q in (await user.get("/questionBank/questions?take=all")).json()["items"]]
        kept = (await user.get(f"/questionBank/questions/{question}")).json()
        assert kept["id"] == question and kept["deletedAt"] is not None
        hard = await http.delete(f"/questionBank/questions/hard/{question}", headers=admin)
        assert hard.json()["message"] == "Question permanently deleted" and hard.json()["deleted"]["id"] == question
        assert (await user.get(f"/questionBank/questions/{question}")).status_code == 404


async def sse_events(client: httpx.AsyncClient, path: str, count: int) -> list[tuple[str, dict]]:
    """The first `count` events of an SSE stream, as (event, data)."""
    events: list[tuple[str, dict]] = []
    async with client.stream("GET", path, headers={"Origin": FRONTEND}) as stream:
        assert stream.status_code == 200 and stream.headers["content-type"].startswith("text/event-stream")
        assert stream.headers["access-control-allow-origin"] == FRONTEND
        assert stream.headers["access-control-allow-credentials"] == "true"
        name = None
        async for line in stream.aiter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                events.append((name, json.loads(line.removeprefix("data: "))))
                if len(events) == count:
                    return events
    return events


async def matched_pair(base: str):
    """Two signed-in users matched through `/match`: (first, second, room id), the first told over SSE."""
    first, one = await signed_in(base)
    second, two = await signed_in(base)
    criteria = {"topicIn": ["Arrays"], "difficultyIn": ["Easy"], "languageIn": ["Python 3"]}
    queued = await first.post("/match/request", json={"userId": one["id"], **criteria})
    assert (queued.status_code, queued.json()["status"]) == (202, "queued")
    assert (await first.get(f"/match/status/{one['id']}")).json()["status"] == "queued"
    listening = asyncio.create_task(sse_events(first, f"/match/subscribe/{one['id']}", 2))
    await asyncio.sleep(0.5)
    matched = await second.post("/match/request", json={"userId": two["id"], **criteria})
    assert (matched.status_code, matched.json()["status"]) == (200, "matched")
    room = matched.json()["roomId"]
    events = await asyncio.wait_for(listening, 30)
    assert events[0] == ("heartbeat", {}) and events[1][0] == "MATCH_FOUND" and events[1][1]["roomId"] == room
    return (first, one), (second, two), room


async def test_match_over_sse_then_edit_in_the_session_by_cookie_save_an_attempt_and_run(server):
    require_yjs_clients()
    base, http, app = server
    (first, one), (second, two), room = await matched_pair(base)
    third, _ = await signed_in(base)
    async with closing(first, second, third):
        criteria = {"userId": one["id"], "topicIn": ["Arrays"], "difficultyIn": ["Easy"], "languageIn": ["Python 3"]}
        again = await first.post("/match/request", json=criteria)
        assert again.status_code == 409 and again.json()["error"] == "User already in an active session"
        assert (await third.post("/match/request", json=criteria)).status_code == 403  # someone else's userId
        assert (await first.get(f"/match/status/{one['id']}")).json()["status"] == "matched"

        active = (await first.get("/collab/sessions/active")).json()["data"]
        assert active["id"] == room and active["language"] == "python" and active["status"] == "ACTIVE"
        assert (await third.get("/collab/sessions/active")).json() == {"data": None}
        assert (await third.get(f"/collab/sessions/{room}")).status_code == 403
        assert (await http.get("/collab/healthz")).text == "ok"

        ws = base.replace("http", "ws")
        cookies = {client: f"jwt_access_token={client.cookies.get('jwt_access_token', path='/')}"
                   for client in (first, second, third)}  # fmt: skip
        spec = {"url": f"{ws}/collab/ws/{room}", "documents": [room], "origin": FRONTEND, "timeoutMs": 60000}
        async with (
            YjsClient.start({**spec, "cookie": cookies[first]}) as ann,
            YjsClient.start({**spec, "cookie": cookies[second]}) as bo,
            YjsClient.start({**spec, "cookie": cookies[third]}) as cy,
            YjsClient.start({**spec, "cookie": cookies[first], "documents": ["another-room"]}) as elsewhere,
        ):
            await ann.wait_for("synced")
            await bo.wait_for("synced")
            assert "not a participant" in (await cy.wait_for("authenticationFailed"))["reason"]
            assert f"serves the document {room} only" in (await elsewhere.wait_for("authenticationFailed"))["reason"]
            await ann.command(op="insert", index=0, text="print(6 * 7)")
            await bo.wait_for("text", text="print(6 * 7)")
            # A page on another origin riding the user's cookie is refused at the handshake, on both protocols.
            for path in (f"/collab/ws/{room}", f"/collab/yjs/{room}"):
                with pytest.raises(InvalidStatus) as forged:
                    async with connect(ws + path, additional_headers={"Origin": "http://evil.example",
                                                                      "Cookie": cookies[first]}):  # fmt: skip
                        pass
                assert forged.value.response.status_code == 403

        saved = await first.post("/attempt", json={"collabId": two["id"], "questionId": active["questionId"],
                                                   "content": "print(6 * 7)"})  # fmt: skip
        assert saved.status_code == 201 and saved.json()["message"] == "Attempt created"
        mine = (await first.get(f"/attempt/user/{one['id']}")).json()
        assert [(a["userId"], a["collabId"], a["question"], a["code"]) for a in mine] == [
            (one["id"], two["id"], active["questionId"], "print(6 * 7)")
        ]
        assert [a["id"] for a in (await second.get(f"/attempt/user/{one['id']}")).json()] == [mine[0]["id"]]
        assert (await third.get(f"/attempt/user/{one['id']}")).json() == []
        assert (await third.get(f"/attempt/{mine[0]['id']}")).status_code == 403
        assert (await first.get(f"/attempt/{mine[0]['id']}")).json()["collabId"] == two["id"]
        assert (await first.get(f"/attempt/unique-qns/{one['id']}")).json() == [active["questionId"]]
        assert (await third.get(f"/attempt/unique-qns/{one['id']}")).status_code == 403
        assert (await first.post("/attempt", json={"questionId": 1, "content": 5})).status_code == 400

        ended = await second.post(f"/collab/sessions/{room}/end")
        assert ended.json()["data"]["status"] == "ENDED"
        assert (await first.get("/collab/sessions/active")).json() == {"data": None}
        assert (await first.post("/collab/sessions/sweeper/run")).status_code == 403
        admin = bearer(app.state.services.tokens.issue(1, "ADMIN"))
        assert (await http.post("/collab/sessions/sweeper/run", headers=admin)).json() == {"data": {"expired": 0}}


async def test_the_code_runner_runs_for_signed_in_users_within_their_rate(server):
    base, http, _ = server
    runner, _ = await signed_in(base)
    async with closing(runner):
        ran = await runner.post("/run", json={"language": "python 3", "code": "print('hi')"})
        assert ran.status_code == 200 and set(ran.json()) == {"stdout", "stderr", "exitCode"}
        assert ran.json()["exitCode"] == 0 and "test judge ran 11 bytes" in ran.json()["stdout"]
        for body, message in (
            ({"language": "python"}, "Missing 'language' or 'code'."),
            ({"language": "ruby", "code": "puts 1"}, "Unsupported language. Use 'python' or 'java'."),
            ({"language": 7, "code": "x"}, "Missing 'language' or 'code'."),
        ):
            refused = await runner.post("/run", json=body)
            assert (refused.status_code, refused.json()) == (400, {"error": message})
        assert (await runner.post("/run", json={"language": "java", "code": "x" * 3000})).status_code == 413
        for language in ("java", "Java (OpenJDK)"):
            assert (await runner.post("/run", json={"language": language, "code": "class Main {}"})).status_code == 200
        limited = await runner.post("/run", json={"language": "python", "code": "print(1)"})
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert (await http.post("/run", json={"language": "python", "code": "print(1)"})).status_code == 401

"""Collab sessions over REST through real Ray: `{"data": ...}`, and who may do what."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import pytest_asyncio

from persistence.models import CollabSession
from tests.conftest import bearer
from tests.contest.apps import contest_app, login

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def api(ray_session, database_url, tmp_path_factory):
    async with contest_app(database_url, tmp_path_factory.mktemp("collab")) as (client, app):
        yield client, app


async def admin(api) -> dict:
    client, app = api
    user_id, _ = await login(client)
    return bearer(app.state.services.tokens.issue(user_id, "ADMIN"))


def new_session(first: int, second: int, **extra) -> dict:
    return {"topic": "Arrays", "difficulty": "Easy", "questionId": "1", "language": "python",
            "user1ID": str(first), "user2ID": str(second), **extra}  # fmt: skip


async def test_health_needs_no_token(api):
    client, _ = api
    response = await client.get("/collab/health")
    assert response.status_code == 200 and response.json() == {"data": {"status": "ok"}}


async def test_a_matched_pair_gets_a_session_they_alone_can_use(api):
    client, _ = api
    (ann, ann_auth), (bo, bo_auth), (_cy, cy_auth) = [await login(client) for _ in range(3)]
    body = {"languageIn": "python", "difficultyIn": "Easy", "topicIn": f"t{ann}", "ttlMs": 60000}
    await client.post("/matching/requests", json={**body, "userId": str(ann)}, headers=ann_auth)
    matched = (await client.post("/matching/requests", json={**body, "userId": str(bo)}, headers=bo_auth)).json()
    session_id = matched["roomId"]

    mine = await client.get("/collab/sessions/me", headers=ann_auth)
    assert mine.status_code == 200 and mine.json()["data"]["id"] == session_id
    data = mine.json()["data"]
    assert (data["user1ID"], data["user2ID"], data["status"], data["code"]) == (str(ann), str(bo), "ACTIVE", "")
    assert (await client.get("/collab/sessions/me", headers=cy_auth)).status_code == 404
    assert (await client.get(f"/collab/sessions/{session_id}", headers=cy_auth)).status_code == 403
    assert (await client.post(f"/collab/sessions/{session_id}/join", headers=cy_auth)).status_code == 403
    assert (await client.post(f"/collab/sessions/{session_id}/end", headers=cy_auth)).status_code == 403
    assert (await client.get(f"/collab/sessions/{session_id}", headers=await admin(api))).status_code == 200

    joined = (await client.post(f"/collab/sessions/{session_id}/join", headers=bo_auth)).json()["data"]
    assert [p["userId"] for p in joined["participants"]] == [str(bo)]
    left = (await client.post(f"/collab/sessions/{session_id}/leave", headers=bo_auth)).json()["data"]
    assert left["participants"][0]["leftAt"] is not None
    ended = (await client.post(f"/collab/sessions/{session_id}/end", headers=ann_auth)).json()["data"]
    assert ended["status"] == "ENDED" and ended["endedAt"] is not None and ended["code"] == ""
    again = await client.post(f"/collab/sessions/{session_id}/join", headers=bo_auth)
    assert again.status_code == 409 and again.json() == {"error": "Session is not active"}
    assert (await client.get("/collab/sessions/me", headers=ann_auth)).status_code == 404


async def test_admins_create_find_and_sweep(api):
    client, _ = api
    boss = await admin(api)
    (dee, dee_auth), (eve, _) = await login(client), await login(client)
    made = await client.post("/collab/sessions", json=new_session(dee, eve), headers=boss)
    assert made.status_code == 201, made.text
    assert made.json()["data"]["questionId"] == 1 and made.json()["data"]["language"] == "python"
    assert (await client.post("/collab/sessions", json=new_session(dee, eve), headers=dee_auth)).status_code == 403
    assert (await client.post("/collab/sessions", json=new_session(dee, dee), headers=boss)).status_code == 400
    bad = await client.post("/collab/sessions", json=new_session(dee, eve, language="cobol"), headers=boss)
    assert bad.status_code == 400
    duplicate = await client.post("/collab/sessions", json=new_session(dee, eve, id=made.json()["data"]["id"]),
                                  headers=boss)  # fmt: skip
    assert duplicate.status_code == 409

    found = await client.post("/collab/sessions/by-username", json={"username": f"dev-{dee}"}, headers=boss)
    assert found.status_code == 200 and found.json()["data"]["id"] == made.json()["data"]["id"]
    assert (await client.post("/collab/sessions/by-username", json={"username": f"dev-{dee}"},
                              headers=dee_auth)).status_code == 403  # fmt: skip

    (fay, _), (gus, _) = await login(client), await login(client)
    stale = await client.post("/collab/sessions", json=new_session(fay, gus, expiresAt="2020-01-01T00:00:00Z"),
                              headers=boss)  # fmt: skip
    stale_id = stale.json()["data"]["id"]
    expired = (await client.get(f"/collab/sessions/{stale_id}", headers=boss)).json()["data"]
    assert expired["status"] == "EXPIRED"  # its own timer, armed on activation, fired at once

    # A session whose actor is not live (say, written before a restart) is ended by the sweep.
    _, app = api
    (hal, _), (ivy, _) = await login(client), await login(client)
    async with app.state.services.sessions() as session:
        session.add(CollabSession(id=f"stale-{hal}", topic="Arrays", difficulty="Easy", language="java",
                                  user1_id=hal, user2_id=ivy, expires_at=datetime(2020, 1, 1, tzinfo=UTC)))  # fmt: skip
        await session.commit()
    swept = (await client.post("/collab/sessions/sweep", headers=boss)).json()["data"]
    assert [(s["id"], s["status"]) for s in swept] == [(f"stale-{hal}", "EXPIRED")]
    assert (await client.post("/collab/sessions/sweep", headers=dee_auth)).status_code == 403
    assert (await client.get("/collab/sessions/not-a-session", headers=boss)).status_code == 404

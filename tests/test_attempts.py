"""Attempts: only collab participants create and read them; per-user listings are self-or-admin."""

from __future__ import annotations

import pytest

from persistence.repositories import users
from tests.conftest import bearer
from tests.test_questions import question


@pytest.fixture
async def world(harness):
    tokens = {
        "admin": await harness.admin_token(),
        "ann": await harness.token_for("ann"),
        "bob": await harness.token_for("bob"),
        "eve": await harness.token_for("eve"),
    }
    created = []
    for title in ("First", "Second"):
        response = await harness.client.post("/questions", headers=bearer(tokens["admin"]), json=question(title))
        created.append(response.json()["id"])
    collab = "5e55e55e-0000-4000-8000-000000000001"
    await harness.collab_session(collab, created[0], "ann", "bob")
    async with harness.sessions() as session:
        ids = {name: str((await users.by_username(session, name)).id) for name in ("ann", "bob")}
    return {
        "tokens": tokens,
        "questions": created,
        "collab": collab,
        "ids": ids,
    }


async def post_attempt(harness, token, collab, question_id, content="print(1)"):
    return await harness.client.post(
        "/attempts",
        headers=bearer(token),
        json={"collabId": collab, "questionId": question_id, "content": content},
    )


async def test_participant_creates_attempt_recording_both_users(harness, world):
    tokens = world["tokens"]
    response = await post_attempt(harness, tokens["ann"], world["collab"], world["questions"][0])
    assert response.status_code == 201
    assert response.json()["message"] == "Attempt created"
    attempt = (await harness.client.get(f"/attempts/{response.json()['id']}", headers=bearer(tokens["bob"]))).json()
    assert sorted(attempt["userIds"]) == sorted(world["ids"].values())
    assert attempt["language"] == "python" and attempt["content"] == "print(1)"
    assert attempt["collabId"] == world["collab"]


async def test_non_participant_cannot_create_or_read(harness, world):
    tokens = world["tokens"]
    refused = await post_attempt(harness, tokens["eve"], world["collab"], world["questions"][0])
    assert refused.status_code == 403
    created = await post_attempt(harness, tokens["ann"], world["collab"], world["questions"][0])
    path = f"/attempts/{created.json()['id']}"
    assert (await harness.client.get(path, headers=bearer(tokens["eve"]))).status_code == 403
    assert (await harness.client.get(path, headers=bearer(tokens["admin"]))).status_code == 200


async def test_unknown_collab_or_question_is_404(harness, world):
    tokens = world["tokens"]
    assert (await post_attempt(harness, tokens["ann"], "no-such-session", world["questions"][0])).status_code == 404
    assert (await post_attempt(harness, tokens["ann"], world["collab"], 999999)).status_code == 404
    assert (await harness.client.get("/attempts/999999", headers=bearer(tokens["ann"]))).status_code == 404


async def test_user_listings_are_self_or_admin_newest_first(harness, world):
    tokens, ids = world["tokens"], world["ids"]
    first, second = world["questions"]
    for question_id, content in ((first, "v1"), (second, "v2"), (first, "v3")):
        assert (await post_attempt(harness, tokens["bob"], world["collab"], question_id, content)).status_code == 201
    mine = await harness.client.get(f"/attempts/users/{ids['ann']}", headers=bearer(tokens["ann"]))
    assert [attempt["content"] for attempt in mine.json()] == ["v3", "v2", "v1"]
    unique = await harness.client.get(f"/attempts/users/{ids['ann']}/questions", headers=bearer(tokens["ann"]))
    assert unique.json() == sorted([first, second])
    for path in (f"/attempts/users/{ids['ann']}", f"/attempts/users/{ids['ann']}/questions"):
        assert (await harness.client.get(path, headers=bearer(tokens["eve"]))).status_code == 403
        assert (await harness.client.get(path, headers=bearer(tokens["admin"]))).status_code == 200
    empty = await harness.client.get(f"/attempts/users/{ids['ann']}", headers=bearer(tokens["admin"]))
    assert len(empty.json()) == 3

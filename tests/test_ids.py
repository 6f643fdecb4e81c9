"""Ids out of range or spelled with non-ASCII digits are a 400 `{"error"}` on every route, never a 500."""

from __future__ import annotations

import pytest

from api.core.ids import MAX_ID, as_id
from tests.conftest import bearer

# "²" passes str.isdigit() (int() then raises); 2^63 overflows PostgreSQL's BIGINT and SQLite's
# driver; 2^31 is past the INTEGER id columns; 0 and -1 name no row.
BAD_IDS = ["%C2%B2", "%D9%A3", str(2**63), str(2**31), "0", "-1"]

PATH_ROUTES = [
    ("GET", "/user/{id}"),
    ("PATCH", "/user/{id}"),
    ("GET", "/users/{id}"),
    ("PATCH", "/users/{id}"),
    ("GET", "/attempt/{id}"),
    ("GET", "/attempt/user/{id}"),
    ("GET", "/attempt/unique-qns/{id}"),
    ("GET", "/attempts/{id}"),
    ("GET", "/attempts/users/{id}"),
    ("GET", "/attempts/users/{id}/questions"),
    ("GET", "/questionBank/questions/{id}"),
    ("PATCH", "/questionBank/questions/{id}"),
    ("DELETE", "/questionBank/questions/{id}"),
    ("DELETE", "/questionBank/questions/hard/{id}"),
    ("DELETE", "/questionBank/topics/hard/{id}"),
    ("GET", "/questions/{id}"),
    ("PUT", "/questions/{id}"),
    ("DELETE", "/questions/{id}"),
    ("DELETE", "/questions/{id}/hard"),
    ("GET", "/rooms/{id}"),
    ("GET", "/rooms/leaderboard?roomId={id}"),
    ("POST", "/rooms/join?roomId={id}"),
    ("GET", "/match/status/{id}"),
    ("GET", "/matching/status/{id}"),
    ("POST", "/match/signal/{id}"),
]


def test_as_id_takes_ascii_digits_in_range_only():
    assert as_id("42") == 42 and as_id(str(MAX_ID)) == MAX_ID
    for raw in ("²", "٣", "0", "-1", "+1", " 1", "1_0", str(MAX_ID + 1), "9" * 5000, ""):
        assert as_id(raw) is None, raw


@pytest.mark.parametrize("raw", BAD_IDS)
async def test_bad_ids_on_every_id_path_are_400(harness, raw):
    admin = bearer(await harness.admin_token())
    for method, template in PATH_ROUTES:
        response = await harness.client.request(method, template.format(id=raw), headers=admin, json={})
        assert response.status_code == 400, (method, template, response.status_code, response.text)
        assert response.json()["error"], (method, template)


@pytest.mark.parametrize("raw", ["²", str(2**63), str(2**31), "0"])
async def test_bad_ids_in_bodies_are_400(harness, raw):
    admin = bearer(await harness.admin_token())
    number = int(raw) if raw.isascii() else raw
    bodies = [
        ("/attempt", {"collabId": raw, "questionId": number, "content": "x"}),
        ("/attempts", {"collabId": "c", "questionId": number, "content": "x"}),
        ("/rooms/submit", {"roomId": number, "problemId": 1, "code": "x", "languageId": 71}),
        ("/rooms/submit", {"roomId": 1, "problemId": number, "code": "x", "languageId": 71}),
        (
            "/collab/sessions",
            {
                "topic": "t",
                "difficulty": "Easy",
                "questionId": raw,
                "language": "python",
                "user1ID": "1",
                "user2ID": raw,
            },
        ),
        ("/match/cancel", {"userId": raw}),
    ]
    for path, body in bodies:
        response = await harness.client.post(path, headers=admin, json=body)
        assert response.status_code == 400, (path, body, response.status_code, response.text)
        assert response.json()["error"], path


async def test_a_partner_id_spelled_in_unicode_digits_is_no_partner(harness):
    token = bearer(await harness.token_for("ann"))
    response = await harness.client.post("/attempt", headers=token, json={"collabId": "²", "questionId": 1,
                                                                          "content": "x"})  # fmt: skip
    assert response.status_code == 404 and response.json() == {"error": "Collab session not found"}

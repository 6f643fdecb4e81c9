"""The contest over HTTP, through real Ray: seed 001's paths, statuses and messages, from outside.

One app (one actor runtime) per database backend serves the whole module; every test uses
users of its own, so tests do not see each other's rooms.
"""

from __future__ import annotations

import asyncio

import pytest
import pytest_asyncio

from tests.contest.apps import contest_app, login, started_room, verdicts_settle

pytestmark = pytest.mark.asyncio(loop_scope="module")

ACCEPTED = "print('ACCEPT')"
WRONG = "print(42)"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def api(ray_session, database_url, tmp_path_factory):
    async with contest_app(database_url, tmp_path_factory.mktemp("contest"), submission_max_bytes=1000) as (client, _):
        yield client


def expect(response, status, error=None):
    assert response.status_code == status, response.text
    if error is not None:
        assert response.json()["error"] == error
    return response


async def test_many_rooms_created_and_joined_at_once(api):
    """More rooms at once than the front has database connections: a route holds none of them
    while the room's actor answers, so none waits for another's."""
    players = [await login(api) for _ in range(2 * 40)]
    hosts, guests = players[::2], players[1::2]
    created = await asyncio.gather(*(api.post("/rooms/create?password=1", headers=auth) for _, auth in hosts))
    assert [response.status_code for response in created] == [200] * len(hosts), created[0].text
    rooms = [response.json()["id"] for response in created]
    assert len(set(rooms)) == len(rooms)
    joins = []
    for room, (_, auth) in zip(rooms, guests, strict=True):
        joins.append(api.post(f"/rooms/join?roomId={room}&password=1", headers=auth))
    joined = await asyncio.gather(*joins)
    assert {response.text for response in joined} == {"Joined successfully"}


async def test_create_and_join_with_the_seed_messages(api):
    (host, host_auth), (_guest, guest_auth), (_third, third_auth) = [await login(api) for _ in range(3)]
    created = expect(await api.post("/rooms/create", headers=host_auth), 200).json()
    assert created["hostUserId"] == host and created["status"] == "WAITING"
    assert len(created["password"]) == 4 and created["password"].isdigit()
    assert created["startTime"] is None and created["endTime"] is None and created["duration"] is None
    room_id, password = created["id"], created["password"]

    expect(
        await api.post(f"/rooms/join?roomId={room_id}&password=x{password}", headers=guest_auth), 403, "Wrong Password"
    )
    expect(
        await api.post(f"/rooms/join?roomId={room_id}&password={password}", headers=host_auth),
        409,
        "User already in this room",
    )
    joined = expect(await api.post(f"/rooms/join?roomId={room_id}&password={password}", headers=guest_auth), 200)
    assert joined.text == "Joined successfully" and joined.headers["content-type"].startswith("text/plain")
    expect(await api.post(f"/rooms/join?roomId={room_id}&password={password}", headers=third_auth), 409, "Room is full")
    expect(await api.post("/rooms/create", headers=guest_auth), 409, "User already in another active room")
    other = (await api.post("/rooms/create?password=1", headers=third_auth)).json()
    expect(
        await api.post(f"/rooms/join?roomId={other['id']}&password=1", headers=guest_auth),
        409,
        "User already in another active room",
    )
    expect(await api.post("/rooms/join?roomId=2147483000&password=1", headers=guest_auth), 404, "Room not found")


async def test_start_submit_leaderboard_end_stats_profile(api):
    room_id, (host, host_auth), (guest, guest_auth), problems = await started_room(api)
    assert len(problems) == 3
    expect(await api.post(f"/rooms/start?roomId={room_id}", headers=host_auth), 400, "Room already started or finished")

    wrong = expect(
        await api.post(
            "/rooms/submit",
            headers=guest_auth,
            json={"roomId": room_id, "problemId": problems[0], "code": WRONG, "languageId": 71},
        ),
        200,
    ).json()
    assert wrong["status"] == "PENDING" and wrong["submissionId"] > 0
    await api.post(
        "/rooms/submit",
        headers=guest_auth,
        json={"roomId": room_id, "problemId": problems[0], "code": ACCEPTED, "languageId": 71},
    )
    detail = await verdicts_settle(api, room_id, guest_auth, 2)
    assert [s["status"]["description"] for s in detail["submissions"]] == ["Wrong Answer", "Accepted"]
    assert detail["room"]["status"] == "ACTIVE" and detail["room"]["duration"] == 10
    assert {"id", "title", "statement", "examples", "constraints"} <= set(detail["problems"][0])
    assert all(
        set(problem) == {"id", "title", "statement", "difficulty", "examples", "constraints"}
        for problem in detail["problems"]
    )
    host_view = (await api.get(f"/rooms/{room_id}", headers=host_auth)).json()
    assert host_view["submissions"] == []

    board = expect(await api.get(f"/rooms/leaderboard?roomId={room_id}", headers=host_auth), 200).json()
    assert [(row["userId"], row["solved"], row["rank"]) for row in board] == [(guest, 1, 1), (host, 0, 2)]
    assert 600 <= board[0]["penalty"] < 700

    expect(await api.post(f"/rooms/end?roomId={room_id}", headers=guest_auth), 403, "Only host can end the contest")
    assert expect(await api.post(f"/rooms/end?roomId={room_id}", headers=host_auth), 200).json() == {
        "winnerUserId": guest,
        "result": "WIN",
    }
    expect(await api.post(f"/rooms/end?roomId={room_id}", headers=host_auth), 400, "Contest not active")

    stats = expect(await api.get("/rooms/stats", headers=guest_auth), 200).json()
    assert stats == {"totalContests": 1, "wins": 1, "losses": 0, "draws": 0, "totalSolved": 1, "winRate": 100.0}
    profile = (await api.get("/rooms/profile", headers=host_auth)).json()
    assert profile["stats"]["losses"] == 1
    (match,) = profile["recentMatches"]
    assert {k: match[k] for k in ("userId", "roomId", "solved", "penalty", "result")} == {
        "userId": host,
        "roomId": room_id,
        "solved": 0,
        "penalty": 0,
        "result": "LOSS",
    }
    assert isinstance(match["timestamp"], int)
    # Both are free again: a finished room holds nobody.
    expect(await api.post("/rooms/create", headers=host_auth), 200)


async def test_rules_refusals_from_the_wrong_side(api):
    room_id, (_host, _host_auth), (_guest, guest_auth), problems = await started_room(api)
    _outsider, outsider_auth = await login(api)
    body = {"roomId": room_id, "problemId": problems[0], "code": WRONG, "languageId": 71}

    expect(await api.post("/rooms/submit", headers=outsider_auth, json=body), 403, "User not in room")
    expect(await api.get(f"/rooms/{room_id}", headers=outsider_auth), 403, "User not in room")
    expect(
        await api.post(f"/rooms/start?roomId={room_id}", headers=outsider_auth), 403, "Only host can start the contest"
    )
    expect(await api.post(f"/rooms/end?roomId={room_id}", headers=outsider_auth), 403, "Only host can end the contest")
    expect(
        await api.post("/rooms/submit", headers=guest_auth, json={**body, "problemId": 10**6}), 400, "Invalid problem"
    )
    expect(await api.post("/rooms/submit", json=body), 401)
    expect(await api.get(f"/rooms/leaderboard?roomId={room_id}"), 401)


async def test_submission_rate_limit_is_429_with_retry_after(api):
    room_id, (_host, host_auth), _, problems = await started_room(api)
    body = {"roomId": room_id, "problemId": problems[1], "code": WRONG, "languageId": 71}
    for _ in range(5):
        expect(await api.post("/rooms/submit", headers=host_auth, json=body), 200)
    limited = expect(
        await api.post("/rooms/submit", headers=host_auth, json=body), 429, "Too many submissions. Please slow down."
    )
    assert 1 <= int(limited.headers["Retry-After"]) <= 10


async def test_bad_input_is_a_clear_4xx(api):
    room_id, (_host, host_auth), _, problems = await started_room(api)
    expect(await api.post("/rooms/start?roomId=abc", headers=host_auth), 400)
    expect(await api.post("/rooms/start", headers=host_auth), 400)
    malformed = {**host_auth, "Content-Type": "application/json"}
    expect(await api.post("/rooms/submit", headers=malformed, content=b"{not json"), 400, "Malformed JSON body")
    expect(await api.post("/rooms/submit", headers=host_auth, json={"roomId": room_id}), 400)
    big = {"roomId": room_id, "problemId": problems[0], "code": "x" * 1001, "languageId": 71}
    expect(await api.post("/rooms/submit", headers=host_auth, json=big), 413, "Code is larger than 1000 bytes")
    unknown = {"roomId": room_id, "problemId": problems[0], "code": "x", "languageId": 999}
    expect(await api.post("/rooms/submit", headers=host_auth, json=unknown), 400, "Unsupported languageId 999")
    expect(await api.post("/auth/login?userId=-3"), 400)
    # None of it cost the room anything: nothing was stored, the contest goes on.
    detail = (await api.get(f"/rooms/{room_id}", headers=host_auth)).json()
    assert detail["submissions"] == [] and detail["room"]["status"] == "ACTIVE"

"""Seed 001's own browser client (CodeComp-Springboot's test.html) against this server, as it is:
the old `stompjs` 2.x over sockjs-client 1.x, `connect({})` with no token, one subscription to
`/topic/room/{id}`. It gets the spectator view: no player's problems as its own, both players'
as the others', and the leaderboard as it changes."""

from __future__ import annotations

from tests.conftest import bearer
from tests.contest.apps import contest_server
from tests.js_clients import LegacyStompClient


async def test_the_seed_test_page_client_watches_a_room_anonymously(ray_session, database_url, tmp_path):
    async with contest_server(database_url, tmp_path) as (base_url, http, _):
        host, guest = [(await http.post(f"/auth/login?userId={n}")).json()["token"] for n in (4101, 4102)]
        room = (await http.post("/rooms/create?password=9", headers=bearer(host))).json()["id"]
        assert (await http.post(f"/rooms/join?roomId={room}&password=9", headers=bearer(guest))).status_code == 200
        assert (await http.post(f"/rooms/start?roomId={room}", headers=bearer(host))).status_code == 200
        problem = (await http.get(f"/rooms/{room}", headers=bearer(guest))).json()["problems"][0]["id"]
        spec = {"url": f"{base_url}/ws", "subscribe": f"/topic/room/{room}", "messages": 2, "timeoutMs": 60000}
        async with LegacyStompClient.start(spec) as watcher:
            await watcher.expect("connected")
            first = (await watcher.expect("message"))["body"]
            assert first["roomId"] == room and first["myProblems"] == []
            assert {cell["userId"] for cell in first["opponentProblems"]} == {4101, 4102}
            body = {"roomId": room, "problemId": problem, "code": "ACCEPT", "languageId": 71}
            assert (await http.post("/rooms/submit", json=body, headers=bearer(guest))).status_code == 200
            second = (await watcher.expect("message"))["body"]
            assert second["leaderboard"][0] == {**second["leaderboard"][0], "userId": 4102, "solved": 1, "rank": 1}
            assert second["myProblems"] == []
            assert await watcher.wait() == 0

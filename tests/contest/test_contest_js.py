"""Seed 001's typical flow against a live server, watched by the real npm clients.

HTTP goes as the seed's frontend sends it; the live leaderboard is received by
@stomp/stompjs over sockjs-client (the host, token in the CONNECT header), by
@stomp/stompjs over a raw WebSocket (the guest, token on the URL), and by an anonymous
SockJS client. A signed-in stranger is refused with an ERROR frame.
"""

from __future__ import annotations

from tests.conftest import bearer
from tests.contest.apps import contest_server
from tests.js_clients import StompClient, require_node_clients

ACCEPTED = "print('ACCEPT')"
WRONG = "print(42)"


async def token(http, user_id: int) -> str:
    response = await http.post(f"/auth/login?userId={user_id}")
    assert response.status_code == 200, response.text
    return response.json()["token"]


class Watched:
    """A client's messages, split by destination, read until a condition holds."""

    def __init__(self, client: StompClient, room_id: int) -> None:
        self.client = client
        self.state_topic = f"/topic/room/{room_id}"
        self.events_topic = f"/topic/room/{room_id}/events"
        self.states: list[dict] = []
        self.events: list[dict] = []

    async def until(self, condition) -> None:
        while not condition(self):
            message = await self.client.expect("message")
            if message["destination"] == self.state_topic:
                self.states.append(message["body"])
            else:
                assert message["destination"] == self.events_topic
                self.events.append(message["body"])

    def event_types(self) -> list[str]:
        return [event["type"] for event in self.events]


def expect(response, status, error=None):
    assert response.status_code == status, response.text
    if error is not None:
        assert response.json()["error"] == error
    return response


async def test_the_seed_flow_with_the_real_clients(ray_session, database_url, tmp_path):
    require_node_clients()
    async with contest_server(database_url, tmp_path) as (base_url, http, _):
        host_id, guest_id, third_id, stranger_id = 71, 72, 73, 74
        host, guest, third, stranger = [await token(http, n) for n in (host_id, guest_id, third_id, stranger_id)]

        room = expect(await http.post("/rooms/create?password=", headers=bearer(host)), 200).json()
        room_id, password = room["id"], room["password"]
        join = f"/rooms/join?roomId={room_id}&password="
        expect(await http.post(join + "nope", headers=bearer(guest)), 403, "Wrong Password")
        expect(await http.post(join + password, headers=bearer(guest)), 200)
        expect(await http.post(join + password, headers=bearer(third)), 409, "Room is full")
        other = expect(await http.post("/rooms/create?password=9", headers=bearer(third)), 200).json()
        expect(
            await http.post(f"/rooms/join?roomId={other['id']}&password=9", headers=bearer(guest)),
            409,
            "User already in another active room",
        )
        expect(
            await http.post(f"/rooms/start?roomId={room_id}", headers=bearer(guest)),
            403,
            "Only host can start the contest",
        )

        # Frames are handled in order: once the state's first push arrives, the events feed is live too.
        topics = [f"/topic/room/{room_id}/events", f"/topic/room/{room_id}"]
        host_spec = {"url": f"{base_url}/ws", "token": host, "subscribe": topics, "timeoutMs": 60000}
        guest_url = base_url.replace("http", "ws") + f"/ws/websocket?token={guest}"
        guest_spec = {"url": guest_url, "transport": "raw", "subscribe": topics, "timeoutMs": 60000}
        anonymous_spec = {"url": f"{base_url}/ws", "subscribe": topics[1:], "timeoutMs": 60000}
        stranger_spec = {"url": f"{base_url}/ws", "token": stranger, "subscribe": topics[1:], "timeoutMs": 60000}
        async with (
            StompClient.start(host_spec) as host_client,
            StompClient.start(guest_spec) as guest_client,
            StompClient.start(anonymous_spec) as anonymous_client,
            StompClient.start(stranger_spec) as stranger_client,
        ):
            for client in (host_client, guest_client, anonymous_client, stranger_client):
                assert (await client.expect("connected"))["headers"]["version"] == "1.2"
            refused = await stranger_client.expect("error")
            assert refused["message"] == "User not in room"

            host_view, guest_view, anonymous_view = (
                Watched(c, room_id) for c in (host_client, guest_client, anonymous_client)
            )
            for view in (host_view, guest_view, anonymous_view):
                await view.until(lambda w: w.states)
            assert host_view.states[0] == {
                "roomId": room_id,
                "leaderboard": [
                    {"userId": host_id, "solved": 0, "penalty": 0, "lastSolvedTime": None, "rank": 1},
                    {"userId": guest_id, "solved": 0, "penalty": 0, "lastSolvedTime": None, "rank": 1},
                ],
                "myProblems": [],
                "opponentProblems": [],
            }

            expect(await http.post(f"/rooms/start?roomId={room_id}", headers=bearer(host)), 200)
            for view in (host_view, guest_view):
                await view.until(lambda w: "STARTED" in w.event_types() and len(w.states) >= 2)
            problems = host_view.events[0]["problems"]
            assert len(problems) == 3

            submit = {"roomId": room_id, "problemId": problems[0], "languageId": 71}
            expect(await http.post("/rooms/submit", json=submit | {"code": WRONG}, headers=bearer(guest)), 200)
            expect(await http.post("/rooms/submit", json=submit | {"code": ACCEPTED}, headers=bearer(guest)), 200)

            # The two are judged at once, so their verdicts may come back in either order: wait
            # for the state that counts both.
            def both_judged(w: Watched) -> bool:
                cells = [*w.states[-1]["myProblems"], *w.states[-1]["opponentProblems"]] if w.states else []
                return any((c["userId"], c["problemId"], c["attempts"]) == (guest_id, problems[0], 2) for c in cells)

            for view in (host_view, guest_view, anonymous_view):
                await view.until(both_judged)
            for view in (host_view, guest_view):
                await view.until(lambda w: w.event_types().count("VERDICT") == 2)

            leader = guest_view.states[-1]["leaderboard"][0]
            assert leader["userId"] == guest_id and leader["rank"] == 1
            assert 600 <= leader["penalty"] < 660  # one wrong attempt, seconds since the start
            mine = guest_view.states[-1]["myProblems"]
            assert {cell["userId"] for cell in mine} == {guest_id}
            solved = next(cell for cell in mine if cell["problemId"] == problems[0])
            assert (solved["attempts"], solved["solved"], solved["penalty"]) == (2, True, leader["penalty"])
            assert {cell["userId"] for cell in guest_view.states[-1]["opponentProblems"]} == {host_id}
            assert {cell["userId"] for cell in host_view.states[-1]["myProblems"]} == {host_id}
            # The anonymous subscriber's spectator view: nobody's problems as its own, both players'.
            assert anonymous_view.states[-1]["myProblems"] == []
            assert {cell["userId"] for cell in anonymous_view.states[-1]["opponentProblems"]} == {host_id, guest_id}
            verdicts = sorted((e for e in guest_view.events if e["type"] == "VERDICT"), key=lambda e: e["submissionId"])
            assert [v["status"] for v in verdicts] == [
                {"id": 4, "description": "Wrong Answer"},
                {"id": 3, "description": "Accepted"},
            ]

            broken = submit | {"problemId": problems[1], "code": "COMPILE_ERROR"}
            expect(await http.post("/rooms/submit", json=broken, headers=bearer(guest)), 200)
            for _ in range(2):
                expect(await http.post("/rooms/submit", json=broken | {"code": WRONG}, headers=bearer(guest)), 200)
            expect(
                await http.post("/rooms/submit", json=broken, headers=bearer(guest)),
                429,
                "Too many submissions. Please slow down.",
            )
            for view in (host_view, guest_view):
                await view.until(lambda w: sum(e["type"] == "VERDICT" for e in w.events) == 5)
            own = next(e for e in guest_view.events if e.get("status", {}).get("id") == 6)
            theirs = next(e for e in host_view.events if e.get("status", {}).get("id") == 6)
            assert "does not compile" in own["compileOutput"] and "compileOutput" not in theirs

            ended = expect(await http.post(f"/rooms/end?roomId={room_id}", headers=bearer(host)), 200).json()
            assert ended == {"winnerUserId": guest_id, "result": "WIN"}
            for view in (host_view, guest_view):
                await view.until(lambda w: "ENDED" in w.event_types())
            assert host_view.event_types() == ["STARTED", *["VERDICT"] * 5, "ENDED"]
            assert host_view.events[-1] == {
                "type": "ENDED",
                "roomId": room_id,
                "winnerUserId": guest_id,
                "result": "WIN",
            }

        stats = expect(await http.get("/rooms/stats", headers=bearer(guest)), 200).json()
        assert stats == {"totalContests": 1, "wins": 1, "losses": 0, "draws": 0, "totalSolved": 1, "winRate": 100.0}
        profile = expect(await http.get("/rooms/profile", headers=bearer(host)), 200).json()
        assert profile["stats"]["losses"] == 1
        assert [(m["roomId"], m["result"]) for m in profile["recentMatches"]] == [(room_id, "LOSS")]

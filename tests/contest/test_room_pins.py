"""Room PIN brute force through the front, on the default limits: the front's per-account bound
over every room, and each room's own bound over every guesser."""

from __future__ import annotations

from tests.conftest import REALISTIC_AUTH_LIMITS
from tests.contest.apps import contest_app, login


async def test_room_pin_brute_force_is_429_with_retry_after(ray_session, database_url, tmp_path):
    async with contest_app(database_url, tmp_path, **REALISTIC_AUTH_LIMITS) as (api, _):
        rooms = []
        for _ in range(3):
            _, host = await login(api)
            rooms.append((await api.post("/rooms/create?password=0042", headers=host)).json()["id"])

        # One account, spread over rooms: the front locks it after ROOM_JOIN_FAILURES_PER_ACCOUNT (10).
        _, attacker = await login(api)
        for guess in range(REALISTIC_AUTH_LIMITS["room_join_failures_per_account"]):
            room = rooms[guess % 2]
            wrong = await api.post(f"/rooms/join?roomId={room}&password={guess:04d}", headers=attacker)
            assert (wrong.status_code, wrong.text) == (403, '{"error":"Wrong Password"}')
        locked = await api.post(f"/rooms/join?roomId={rooms[2]}&password=0042", headers=attacker)
        assert locked.status_code == 429 and int(locked.headers["Retry-After"]) >= 1
        assert locked.json()["error"].startswith("Too many attempts")

        # Many accounts on one room: the room refuses everyone, the right PIN too, after 5 in a minute.
        for guess in range(5):
            _, guesser = await login(api)
            wrong = await api.post(f"/rooms/join?roomId={rooms[2]}&password={guess:04d}", headers=guesser)
            assert wrong.status_code == 403
        _, opponent = await login(api)
        shut = await api.post(f"/rooms/join?roomId={rooms[2]}&password=0042", headers=opponent)
        assert shut.status_code == 429 and 1 <= int(shut.headers["Retry-After"]) <= 60
        assert shut.json() == {"error": "Too many wrong passwords for this room; retry shortly"}


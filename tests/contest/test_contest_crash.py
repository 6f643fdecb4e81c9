"""SIGKILL of the host that holds a live room: nothing accepted is lost, the deadline holds."""

from __future__ import annotations

import asyncio
import os
import signal

from sqlalchemy import select

from actors.contest.room import room_actor_id
from persistence.models import Room
from tests.contest.apps import contest_app, started_room, verdicts_settle

ACCEPTED = "print('ACCEPT')"
WRONG = "print(42)"
DURATION = 12


async def test_sigkill_mid_contest_loses_nothing_and_the_room_still_ends_at_its_deadline(
    ray_session, database_url, tmp_path
):
    async with contest_app(database_url, tmp_path, contest_duration_seconds=DURATION) as (api, app):
        services = app.state.services
        client = services.actors.client
        room_id, (host, host_auth), (guest, guest_auth), problems = await started_room(api)
        async with services.sessions() as session:
            deadline = (await session.get(Room, room_id)).deadline

        accepted = []
        for code in (WRONG, ACCEPTED):
            response = await api.post(
                "/rooms/submit",
                headers=guest_auth,
                json={"roomId": room_id, "problemId": problems[0], "code": code, "languageId": 71},
            )
            assert response.status_code == 200, response.text
            accepted.append(response.json()["submissionId"])
        await verdicts_settle(api, room_id, guest_auth, 2)

        host_name = client.host_of(room_actor_id(room_id))
        pid = (await client.host_stats(host_name))["pid"]
        os.kill(pid, signal.SIGKILL)

        # Nobody writes to the room: the restarted host wakes it, and its own timer ends it.
        loop = asyncio.get_running_loop()
        killed_at = loop.time()
        while True:
            async with services.sessions() as session:
                room = await session.scalar(select(Room).where(Room.id == room_id))
            if room.status == "FINISHED":
                break
            assert loop.time() - killed_at < DURATION + 60, "the room never ended by itself"
            await asyncio.sleep(0.2)
        assert room.deadline == deadline
        assert room.end_time >= deadline

        restarted = await client.host_stats(host_name)
        assert restarted["pid"] != pid and restarted["woken"] >= 1
        detail = (await api.get(f"/rooms/{room_id}", headers=guest_auth)).json()
        assert [s["id"] for s in detail["submissions"]] == accepted
        assert [s["status"]["description"] for s in detail["submissions"]] == ["Wrong Answer", "Accepted"]
        board = (await api.get(f"/rooms/leaderboard?roomId={room_id}", headers=host_auth)).json()
        assert [(row["userId"], row["solved"]) for row in board] == [(guest, 1), (host, 0)]
        assert (await api.get("/rooms/stats", headers=guest_auth)).json()["wins"] == 1


async def test_submissions_pending_when_the_host_dies_are_judged_after_it_restarts(ray_session, database_url, tmp_path):
    async with contest_app(database_url, tmp_path) as (api, app):
        client = app.state.services.actors.client
        room_id, _, (_guest, guest_auth), problems = await started_room(api)
        host_name = client.host_of(room_actor_id(room_id))
        pid = (await client.host_stats(host_name))["pid"]
        # The test judge takes its time with this one; the host dies while it waits.
        body = {"roomId": room_id, "problemId": problems[1], "code": ACCEPTED + " # SLOW", "languageId": 71}
        response = await api.post("/rooms/submit", headers=guest_auth, json=body)
        assert response.status_code == 200
        os.kill(pid, signal.SIGKILL)
        detail = await verdicts_settle(api, room_id, guest_auth, 1)
        assert [s["status"]["description"] for s in detail["submissions"]] == ["Accepted"]
        assert (await client.host_stats(host_name))["pid"] != pid

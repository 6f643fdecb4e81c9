"""A Ray cluster of two nodes on this machine (scripts/cluster-local): a live contest whose room
host runs on the second node survives that node's stop. Ray restarts the host on the head, the
room wakes with its seats, submissions and deadline, answers again, and ends itself on time."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess

import httpx
import pytest
from sqlalchemy import select

from actors.contest.room import room_actor_id
from ops.ray_nodes import HEAD_IP, SECOND_NODE_IP
from persistence.database import create_engine, session_factory
from persistence.models import Room
from tests.conftest import TEST_SECRET
from tests.contest.apps import started_room, verdicts_settle
from tests.services import free_port
from tests.test_server_e2e import ROOT

CLUSTER_LOCAL = ROOT / "scripts" / "cluster-local"
ACCEPTED = "print('ACCEPT')"
WRONG = "print(42)"
# Long enough for the failover to happen well before the deadline, short enough to see the end.
DURATION = 30


def _cluster_local(env: dict, *args: str) -> str:
    done = subprocess.run([str(CLUSTER_LOCAL), *args], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"cluster-local {' '.join(args)} failed:\n{done.stdout}{done.stderr}"
    return done.stdout


async def _hosts_by_actor(env: dict) -> tuple[dict, dict]:
    """(node IP → alive, actor id → IP of the node its host runs on), from `status --json`."""
    status = json.loads(await asyncio.to_thread(_cluster_local, env, "status", "--json"))
    nodes = {node["ip"]: node["alive"] for node in status["nodes"]}
    return nodes, {actor: host["nodeIp"] for host in status["hosts"] for actor in host["actorIds"]}


async def _room(database: str, room_id: int) -> Room:
    engine = create_engine(database)
    try:
        async with session_factory(engine)() as session:
            return await session.scalar(select(Room).where(Room.id == room_id))
    finally:
        await engine.dispose()


async def _answering(api: httpx.AsyncClient, room_id: int, auth: dict, patience: float = 90.0) -> dict:
    """The room detail, once the room's actor answers again (503 while its host restarts)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    while (response := await api.get(f"/rooms/{room_id}", headers=auth)).status_code != 200:
        assert response.status_code == 503, response.text
        assert loop.time() < deadline, f"the room did not answer again: {response.text}"
        await asyncio.sleep(0.2)
    return response.json()


async def _submit(api: httpx.AsyncClient, room_id: int, auth: dict, problem: int, code: str) -> int:
    body = {"roomId": room_id, "problemId": problem, "code": code, "languageId": 71}
    response = await api.post("/rooms/submit", headers=auth, json=body)
    assert response.status_code == 200, response.text
    return response.json()["submissionId"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_room_hosted_on_a_stopped_node_resumes_on_the_head_and_still_ends_itself(settings, tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "DATA_DIR": str(tmp_path / "var"),
        "DATABASE_URL": settings.database,
        "PORT": str(port),
        "JWT_SECRET": TEST_SECRET,
        "DEV_LOGIN": "true",
        "JUDGE_BACKEND": "test",
        "CONTEST_DURATION_SECONDS": str(DURATION),
        "LOG_LEVEL": "warning",
    }
    for inherited in ("RAY_ADDRESS", "REDIS_URL", "ACTOR_HOST_RESOURCE", "ACTOR_NAMESPACE"):
        env.pop(inherited, None)
    try:
        await asyncio.to_thread(_cluster_local, env, "up", "--ray-port", str(free_port()))
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as api:
            room_id, (host, host_auth), (guest, guest_auth), problems = await started_room(api)
            accepted = [await _submit(api, room_id, guest_auth, problems[0], code) for code in (WRONG, ACCEPTED)]
            before = await verdicts_settle(api, room_id, guest_auth, 2)
            deadline = (await _room(settings.database, room_id)).deadline
            _, placed = await _hosts_by_actor(env)
            assert placed[room_actor_id(room_id)] == SECOND_NODE_IP

            await asyncio.to_thread(_cluster_local, env, "stop-node")

            after = await _answering(api, room_id, guest_auth)
            assert after["submissions"] == before["submissions"]
            assert after["problems"] == before["problems"]
            accepted.append(await _submit(api, room_id, guest_auth, problems[1], ACCEPTED))
            detail = await verdicts_settle(api, room_id, guest_auth, 3)
            assert [s["id"] for s in detail["submissions"]] == accepted
            assert [s["status"]["description"] for s in detail["submissions"]] == [
                "Wrong Answer", "Accepted", "Accepted"
            ]  # fmt: skip

            loop = asyncio.get_running_loop()
            waiting_since = loop.time()
            while (room := await _room(settings.database, room_id)).status != "FINISHED":
                assert loop.time() - waiting_since < DURATION + 60, "the room never ended by itself"
                await asyncio.sleep(0.5)
            assert room.deadline == deadline
            assert room.end_time >= deadline
            board = (await api.get(f"/rooms/leaderboard?roomId={room_id}", headers=host_auth)).json()
            assert [(row["userId"], row["solved"]) for row in board] == [(guest, 2), (host, 0)]
            nodes, placed = await _hosts_by_actor(env)
            assert nodes == {HEAD_IP: True, SECOND_NODE_IP: False}
            assert placed[room_actor_id(room_id)] == HEAD_IP
    finally:
        await asyncio.to_thread(_cluster_local, env, "down")

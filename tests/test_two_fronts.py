"""Two fronts (two `peerprep serve` processes) on one Ray cluster: a subscriber on each
receives every event of an actor, in order, over the Ray transport and over Redis.

The cluster is a Ray head of its own, started as an operator would (`ray start --head`),
with token authentication, on loopback address 127.0.0.2 (Ray rewrites 127.0.0.1 to the
machine's outward address, and these tests keep every byte on loopback).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import uuid
from pathlib import Path

import httpx
import pytest

from ops.ray_nodes import HEAD_IP, NodeSpec, auth_environment, start_node, stop_group
from ops.serving import wait_ready
from tests.conftest import TEST_SECRET, bearer
from tests.js_clients import StompClient, require_node_clients
from tests.services import free_port
from tests.test_server_e2e import PEERPREP, ROOT, stop


@pytest.fixture(scope="module")
def ray_head(tmp_path_factory):
    """(address, auth environment) of a Ray head started as an operator would, stopped afterwards."""
    port = free_port()
    auth = auth_environment()
    log_path = tmp_path_factory.mktemp("ray-head") / "ray-head.log"
    head = start_node(NodeSpec(HEAD_IP, head_port=port, num_cpus=2), log_path, {**os.environ, **auth})
    yield f"{HEAD_IP}:{port}", auth
    stop_group(head.pid)


def front_environment(settings, tmp_path: Path, port: int, redis_url: str | None, **extra: str) -> dict[str, str]:
    """The environment of a `peerprep serve` child on the test database, without this process's Ray or Redis."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("RAY_ADDRESS", "RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "REDIS_URL")}  # fmt: skip
    env.update(
        DATABASE_URL=settings.database,
        DATA_DIR=str(tmp_path / "var"),
        PORT=str(port),
        JWT_SECRET=TEST_SECRET,
        PYTHONPATH=str(ROOT),
        RAY_NODE_IP=HEAD_IP,
        **extra,
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def _front(settings, tmp_path: Path, ray_head, namespace: str, redis_url: str | None, name: str, **extra: str):
    address, auth = ray_head
    port = free_port()
    env = front_environment(
        settings, tmp_path, port, redis_url, **auth, ARGON2_TIME_COST="1", ARGON2_MEMORY_KIB="1024",
        RAY_ADDRESS=address, ACTOR_NAMESPACE=namespace, **extra,
    )  # fmt: skip
    with open(tmp_path / f"{name}.log", "w") as log:
        process = subprocess.Popen([*PEERPREP, "serve"], env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    return f"http://127.0.0.1:{port}", process, env


async def _collect(client: httpx.AsyncClient, base: str, token: str, events: list, ready: asyncio.Event):
    headers = {"Authorization": f"Bearer {token}"}
    async with client.stream("GET", f"{base}/admin/events", params={"topic": "probe:seq"}, headers=headers) as stream:
        assert stream.status_code == 200
        async for line in stream.aiter_lines():
            if line.startswith(": subscribed"):
                ready.set()
            elif line.startswith("data: "):
                events.append(json.loads(line.removeprefix("data: "))["seq"])


async def wait_front_ready(base: str, process, log: Path) -> None:
    await asyncio.to_thread(wait_ready, f"{base}/ready", process, 60.0, log)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("transport", ["ray", "redis"])
async def test_both_fronts_receive_every_event_in_order(settings, tmp_path, ray_head, transport, request):
    redis_url = request.getfixturevalue("redis_url") if transport == "redis" else None
    namespace = f"two-fronts-{uuid.uuid4().hex[:8]}"
    names = ("front-a", "front-b")
    fronts = [_front(settings, tmp_path, ray_head, namespace, redis_url, name) for name in names]
    made = await asyncio.to_thread(
        subprocess.run,
        [*PEERPREP, "create-admin", "--username", "ops", "--email", "ops@example.com", "--password", "ops-pw"],
        env=fronts[0][2], cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    received: list[list[int]] = [[], []]
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            for (base, process, _), name in zip(fronts, names, strict=True):
                await wait_front_ready(base, process, tmp_path / f"{name}.log")
            login = await client.post(
                f"{fronts[0][0]}/users/login", json={"email": "ops@example.com", "password": "ops-pw"}
            )
            token = login.cookies["jwt_access_token"]
            client.cookies.clear()
            ready = [asyncio.Event(), asyncio.Event()]
            readers = [
                asyncio.create_task(_collect(client, base, token, received[index], ready[index]))
                for index, (base, _, _) in enumerate(fronts)
            ]
            await asyncio.wait_for(asyncio.gather(*(flag.wait() for flag in ready)), 30)
            headers = {"Authorization": f"Bearer {token}"}
            published = await client.post(
                f"{fronts[1][0]}/admin/probes/seq/publish", params={"count": 200}, headers=headers
            )
            assert published.json() == {"topic": "probe:seq", "published": 200}
            for _ in range(200):
                if all(len(events) >= 200 for events in received):
                    break
                await asyncio.sleep(0.05)
            for reader in readers:
                reader.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
    finally:
        for _, process, _ in fronts:
            stop(process)
    assert received == [list(range(200)), list(range(200))]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_contest_pushes_reach_stomp_subscribers_on_both_fronts_over_redis(
    settings, tmp_path, ray_head, redis_url
):
    require_node_clients()
    namespace = f"two-fronts-{uuid.uuid4().hex[:8]}"
    names = ("front-a", "front-b")
    contest = {"DEV_LOGIN": "true", "JUDGE_BACKEND": "test"}
    fronts = [_front(settings, tmp_path, ray_head, namespace, redis_url, name, **contest) for name in names]
    for command in ("migrate", "seed-questions"):
        done = await asyncio.to_thread(
            subprocess.run, [*PEERPREP, command], env=fronts[0][2], cwd=tmp_path, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    (front_a, _, _), (front_b, _, _) = fronts
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            for (base, process, _), name in zip(fronts, names, strict=True):
                await wait_front_ready(base, process, tmp_path / f"{name}.log")
            host, guest = [
                (await client.post(f"{front_a}/auth/login", params={"userId": n})).json()["token"] for n in (5, 6)
            ]
            room = (await client.post(f"{front_a}/rooms/create?password=1", headers=bearer(host))).json()
            await client.post(f"{front_b}/rooms/join?roomId={room['id']}&password=1", headers=bearer(guest))
            assert (
                await client.post(f"{front_a}/rooms/start?roomId={room['id']}", headers=bearer(host))
            ).status_code == 200
            detail = (await client.get(f"{front_a}/rooms/{room['id']}", headers=bearer(host))).json()
            problems = [problem["id"] for problem in detail["problems"]]

            topic = f"/topic/room/{room['id']}"
            specs = [
                {"url": f"{front_a}/ws", "token": host, "subscribe": [topic], "timeoutMs": 60000},
                {"url": front_b.replace("http", "ws") + f"/ws/websocket?token={guest}", "transport": "raw",
                 "subscribe": [topic], "timeoutMs": 60000},
            ]  # fmt: skip
            async with StompClient.start(specs[0]) as on_a, StompClient.start(specs[1]) as on_b:
                for stomp in (on_a, on_b):
                    await stomp.expect("connected")
                initial = [(await c.expect("message"))["body"] for c in (on_a, on_b)]
                assert all(state["roomId"] == room["id"] for state in initial)
                codes = [(problems[0], "print(1)"), (problems[0], "ACCEPT"), (problems[1], "ACCEPT")]
                for problem, code in codes:
                    body = {"roomId": room["id"], "problemId": problem, "code": code, "languageId": 71}
                    submitted = await client.post(f"{front_b}/rooms/submit", json=body, headers=bearer(guest))
                    assert submitted.status_code == 200, submitted.text
                seen = []
                for stomp in (on_a, on_b):
                    boards = []
                    while not boards or boards[-1][0] < 2:
                        board = (await stomp.expect("message"))["body"]["leaderboard"]
                        boards.append(next((r["solved"], r["penalty"]) for r in board if r["rank"] == 1))
                    seen.append(boards)
    finally:
        for _, process, _ in fronts:
            stop(process)
    assert seen[0] == seen[1]
    assert [solved for solved, _ in seen[0]] == [0, 1, 2]

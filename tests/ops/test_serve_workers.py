"""`peerprep serve --workers 2` without RAY_ADDRESS: the parent starts one Ray head, both uvicorn
workers join it as fronts, and STOMP subscribers that landed on different workers (the CONNECTED
frame's `session` names the worker's pid) both receive the room's pushes, over the Ray transport
and over Redis. The head stops with the server."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess

import httpx
import psutil
import pytest

from tests.contest.apps import seed_contest_database, started_room
from tests.js_clients import StompClient, require_node_clients
from tests.services import free_port
from tests.test_server_e2e import PEERPREP, stop
from tests.test_two_fronts import front_environment, wait_front_ready

WORKERS = 2
# The kernel hands connections to whichever worker accepts first, and a worker accepts only once
# it has started: connect until every worker has one, for up to this long.
CONNECT_PATIENCE_SECONDS = 120.0
RAY_PROCESSES = ("gcs_server", "raylet")


def _serve(settings, tmp_path, redis_url: str | None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = front_environment(settings, tmp_path, port, redis_url, DEV_LOGIN="true", JUDGE_BACKEND="test",
                            LOG_LEVEL="warning")  # fmt: skip
    with open(tmp_path / "serve.log", "w") as log:
        process = subprocess.Popen(
            [*PEERPREP, "serve", "--workers", str(WORKERS)], env=env, cwd=tmp_path, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    return process, f"http://127.0.0.1:{port}"


async def _one_subscriber_per_worker(stack: contextlib.AsyncExitStack, spec: dict) -> dict[int, StompClient]:
    """STOMP clients connected until one runs on each worker: {worker pid: client}."""
    found: dict[int, StompClient] = {}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + CONNECT_PATIENCE_SECONDS
    while loop.time() < deadline:
        client = await stack.enter_async_context(StompClient.start(spec))
        session = (await client.expect("connected"))["headers"]["session"]
        pid = int(session.partition("-")[0])
        if pid in found:
            await client.finish()
            continue
        found[pid] = client
        if len(found) == WORKERS:
            return found
    raise AssertionError(f"in {CONNECT_PATIENCE_SECONDS:g} s, connections reached only the workers {sorted(found)}")


async def _leaders(stomp: StompClient, solved: int) -> list[tuple[int, int]]:
    """(solved, penalty) of the leader in each pushed state, until the leader has solved `solved`."""
    boards: list[tuple[int, int]] = []
    while not boards or boards[-1][0] < solved:
        board = (await stomp.expect("message"))["body"]["leaderboard"]
        boards.append(next((row["solved"], row["penalty"]) for row in board if row["rank"] == 1))
    return boards


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("transport", ["ray", "redis"])
async def test_two_workers_share_one_ray_head_and_both_push_a_rooms_states(settings, tmp_path, transport, request):
    require_node_clients()
    redis_url = request.getfixturevalue("redis_url") if transport == "redis" else None
    await seed_contest_database(settings.database)
    server, base = _serve(settings, tmp_path, redis_url)
    processes: list[psutil.Process] = []
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as api:
            await wait_front_ready(base, server, tmp_path / "serve.log")
            room_id, _, (_, guest_auth), problems = await started_room(api)
            token = guest_auth["Authorization"].removeprefix("Bearer ")
            spec = {
                "url": base.replace("http", "ws") + f"/ws/websocket?token={token}",
                "transport": "raw",
                "subscribe": [f"/topic/room/{room_id}"],
                "timeoutMs": 120_000,
            }
            async with contextlib.AsyncExitStack() as stack:
                subscribers = await _one_subscriber_per_worker(stack, spec)
                for stomp in subscribers.values():
                    assert (await stomp.expect("message"))["body"]["roomId"] == room_id
                for problem, code in [(problems[0], "print(1)"), (problems[0], "ACCEPT"), (problems[1], "ACCEPT")]:
                    body = {"roomId": room_id, "problemId": problem, "code": code, "languageId": 71}
                    assert (await api.post("/rooms/submit", json=body, headers=guest_auth)).status_code == 200
                seen = [await _leaders(stomp, 2) for stomp in subscribers.values()]
            tree = psutil.Process(server.pid)
            workers = {child.pid for child in tree.children()}
            processes += tree.children(recursive=True)
            ray_processes = sorted(name for process in processes if (name := process.name()) in RAY_PROCESSES)
    finally:
        stop(server)
        left_running = psutil.wait_procs(processes, timeout=30)[1]
        for process in left_running:
            process.kill()
    assert left_running == [], "every process of the server, its Ray head included, stops with it"
    assert set(subscribers) <= workers
    assert ray_processes == ["gcs_server", "raylet"], "one Ray head, in the parent"
    assert seen[0] == seen[1]
    assert [solved for solved, _ in seen[0]] == [0, 1, 2]

"""End to end through the sandbox: from `POST /rooms/submit` of an accepted Python solution to a
problem with at least 10 tests until the submitter's STOMP client receives its VERDICT.

The real server (`peerprep serve`, embedded Ray, SQLite, the bubblewrap sandbox judge);
the solutions are the question bank's reference solutions; one submission at a time, each
in a room of its own.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time

import httpx
import websockets

from benchmarks.contest_bench import live_room, sockjs_url, stomp
from persistence.bank import load_bank


async def verdict_latencies(base: str, samples: int) -> list[float]:
    solutions = {item.data.title: item.solution.read_text() for item in load_bank() if len(item.data.test_cases) >= 10}
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        user = 700_000
        while len(latencies) < samples:
            room = await live_room(http, user, user + 1)
            user += 2
            detail = await http.get(f"/rooms/{room['id']}", headers={"Authorization": f"Bearer {room['guest'][1]}"})
            problem = next((p for p in detail.json()["problems"] if p["title"] in solutions), None)
            if problem is None:
                continue
            socket = await websockets.connect(sockjs_url(base.replace("http://", "ws://")), ping_interval=None)
            assert await socket.recv() == "o"
            headers = {"accept-version": "1.2", "heart-beat": "0,0", "Authorization": f"Bearer {room['guest'][1]}"}
            await socket.send(json.dumps([stomp("CONNECT", headers)]))
            await socket.send(json.dumps([stomp("SUBSCRIBE", {"id": "0", "destination":
                                                              f"/topic/room/{room['id']}/events"})]))  # fmt: skip
            await socket.send(json.dumps([stomp("SUBSCRIBE", {"id": "1", "destination": f"/topic/room/{room['id']}",
                                                              "receipt": "ready"})]))  # fmt: skip
            while "RECEIPT" not in await socket.recv():
                pass
            body = {"roomId": room["id"], "problemId": problem["id"], "code": solutions[problem["title"]],
                    "languageId": 71}  # fmt: skip
            sent = time.perf_counter()
            response = await http.post("/rooms/submit", json=body,
                                       headers={"Authorization": f"Bearer {room['guest'][1]}"})  # fmt: skip
            response.raise_for_status()
            while True:
                frame = await asyncio.wait_for(socket.recv(), 30)
                if '\\"VERDICT\\"' in frame:
                    arrived = time.perf_counter()
                    assert "Accepted" in frame, frame[:300]
                    break
            latencies.append((arrived - sent) * 1000)
            await socket.close()
    return sorted(latencies)


def summary(latencies: list[float]) -> dict[str, float]:
    return {"e2e_p50_ms": statistics.median(latencies), "e2e_max_ms": max(latencies), "e2e_samples": len(latencies)}

"""`scripts/bench contest`: the contest's three figures, measured in one run against the real server.

The server is `peerprep serve` on the embedded defaults (SQLite, in-process Ray) with the
deterministic test judge. The bench fills it with live rooms (created, joined, started),
each watched by two STOMP clients over SockJS websockets, then measures:

1. room create over HTTP, p50/p99, with the rooms live (a fresh host per sample);
2. submit → leaderboard push, p50/p99, twice from the same samples:
   - client-side: from sending `POST /rooms/submit` (an accepted solution) until both of the
     room's clients have received the RoomStateResponse that shows it. It includes the
     clients' side too (they share the cores with the server): an upper bound;
   - server-side: the front's `peerprep_contest_verdict_push_seconds` histogram (from the
     front receiving the submit to its writing the state that counts the verdict to a room
     socket; one observation per socket), read from `/metrics` before and after the samples,
     its quantiles interpolated inside 1 ms buckets as PromQL's `histogram_quantile`;
3. memory per live room with its two clients: the server's process tree (front + Ray), PSS,
   with the rooms and clients minus with one warm-up room, divided by the rooms. The warm-up
   room puts in the baseline what a cluster starts once: the host, and the judge workers
   that a host's first room starts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import secrets
import statistics
import sys
import time
from pathlib import Path

import httpx
import websockets
from prometheus_client.parser import text_string_to_metric_families
from reporting import finish

from benchmarks.measure import histogram_quantile, percentile, pss_bytes
from benchmarks.server import served

ROOT = Path(__file__).resolve().parents[2]
ACCEPT = "print('ACCEPT')"
PUSH_BUCKET = "peerprep_contest_verdict_push_seconds_bucket"


def sockjs_url(base_ws: str) -> str:
    return f"{base_ws}/ws/{secrets.randbelow(1000):03d}/{secrets.token_hex(4)}/websocket"


def stomp(command: str, headers: dict[str, str], body: str = "") -> str:
    lines = [command, *(f"{name}:{value}" for name, value in headers.items()), "", body]
    return "\n".join(lines) + "\x00"


class Watcher:
    """One STOMP client over a SockJS websocket, subscribed to one room's state topic."""

    def __init__(self, room_id: int, token: str) -> None:
        self.room_id = room_id
        self.token = token
        self.states: asyncio.Queue = asyncio.Queue()
        self.socket = None

    async def connect(self, base_ws: str) -> None:
        self.socket = await websockets.connect(sockjs_url(base_ws), max_size=None, ping_interval=None)
        assert await self.socket.recv() == "o"
        connect = stomp(
            "CONNECT", {"accept-version": "1.2", "heart-beat": "0,0", "Authorization": f"Bearer {self.token}"}
        )
        await self.socket.send(json.dumps([connect]))
        await self._expect("CONNECTED")
        subscribe = stomp("SUBSCRIBE", {"id": "sub-0", "destination": f"/topic/room/{self.room_id}"})
        await self.socket.send(json.dumps([subscribe]))
        await self._expect("MESSAGE")
        asyncio.get_running_loop().create_task(self._read())

    async def _expect(self, command: str) -> str:
        while True:
            frame = await self.socket.recv()
            if frame.startswith("a"):
                for message in json.loads(frame[1:]):
                    if not message.startswith(command):
                        raise SystemExit(f"expected {command}, got {message[:200]!r}")
                    return message

    async def _read(self) -> None:
        async for frame in self.socket:
            if not frame.startswith("a"):
                continue
            arrived = time.perf_counter()
            for message in json.loads(frame[1:]):
                if message.startswith("MESSAGE"):
                    body = message.split("\n\n", 1)[1].rstrip("\x00")
                    self.states.put_nowait((arrived, json.loads(body)))

    async def pushed(self, user_id: int, solved: int) -> float:
        """When this client received the state in which `user_id` has solved `solved` problems."""
        while True:
            arrived, state = await self.states.get()
            if any(row["userId"] == user_id and row["solved"] >= solved for row in state["leaderboard"]):
                return arrived


async def login(http: httpx.AsyncClient, user_id: int) -> str:
    response = await http.post("/auth/login", params={"userId": user_id})
    response.raise_for_status()
    return response.json()["token"]


async def live_room(http: httpx.AsyncClient, host_id: int, guest_id: int) -> dict:
    host, guest = await asyncio.gather(login(http, host_id), login(http, guest_id))
    auth = {"Authorization": f"Bearer {host}"}
    room = (await http.post("/rooms/create", params={"password": "1"}, headers=auth)).raise_for_status().json()
    joined = await http.post(
        "/rooms/join", params={"roomId": room["id"], "password": "1"}, headers={"Authorization": f"Bearer {guest}"}
    )
    joined.raise_for_status()
    (await http.post("/rooms/start", params={"roomId": room["id"]}, headers=auth)).raise_for_status()
    detail = (await http.get(f"/rooms/{room['id']}", headers=auth)).raise_for_status().json()
    return {
        "id": room["id"],
        "host": (host_id, host),
        "guest": (guest_id, guest),
        "problems": [problem["id"] for problem in detail["problems"]],
    }


async def push_buckets(http: httpx.AsyncClient) -> dict[float, float]:
    """The front's verdict-push histogram now: cumulative counts by upper bound."""
    text = (await http.get("/metrics")).raise_for_status().text
    return {
        float(sample.labels["le"]): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == PUSH_BUCKET
    }


async def in_chunks(coroutines, size: int = 50) -> list:
    results = []
    for start in range(0, len(coroutines), size):
        results.extend(await asyncio.gather(*coroutines[start : start + size]))
    return results


async def measure(base: str, rooms: int, samples: int, server_pid: int) -> dict:
    results: dict[str, float] = {}
    base_ws = base.replace("http://", "ws://")
    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        await live_room(http, 9_998, 9_999)
        await asyncio.sleep(5)  # the judge workers' processes start
        memory_none = pss_bytes(server_pid)
        print(f"[1/4] {rooms} live rooms (create, join, start)", flush=True)
        live = await in_chunks([live_room(http, 10_000 + 2 * n, 10_001 + 2 * n) for n in range(rooms)])
        await asyncio.sleep(3)
        memory_rooms = pss_bytes(server_pid)
        print(f"[2/4] {2 * rooms} STOMP clients over SockJS, two per room", flush=True)
        watchers = {}
        for room in live:
            watchers[room["id"]] = (Watcher(room["id"], room["host"][1]), Watcher(room["id"], room["guest"][1]))
        await in_chunks([w.connect(base_ws) for pair in watchers.values() for w in pair], size=100)
        await asyncio.sleep(3)
        memory_clients = pss_bytes(server_pid)
        results["memory_per_room_kb"] = (memory_clients - memory_none) / rooms / 1024
        # The clients' share alone: the rooms' set-up share varies from run to run by tens of KB.
        results["memory_clients_per_room_kb"] = (memory_clients - memory_rooms) / rooms / 1024
        print(
            f"      memory per live room with its 2 clients: {results['memory_per_room_kb']:.1f} KB,"
            f" of which the clients {results['memory_clients_per_room_kb']:.1f} KB",
            flush=True,
        )

        print(f"[3/4] submit → leaderboard push on both clients, {samples} samples", flush=True)
        latencies = []
        buckets_before = await push_buckets(http)
        for index in range(samples):
            room = live[index % rooms]
            solved = index // rooms + 1
            guest_id, guest_token = room["guest"]
            body = {
                "roomId": room["id"],
                "problemId": room["problems"][(solved - 1) % 3],
                "code": ACCEPT,
                "languageId": 71,
            }
            started = time.perf_counter()
            response = await http.post("/rooms/submit", json=body, headers={"Authorization": f"Bearer {guest_token}"})
            response.raise_for_status()
            arrivals = await asyncio.wait_for(
                asyncio.gather(*(w.pushed(guest_id, solved) for w in watchers[room["id"]])), 30
            )
            latencies.append((max(arrivals) - started) * 1000)
        buckets = {bound: count - buckets_before[bound] for bound, count in (await push_buckets(http)).items()}
        latencies.sort()
        results["push_p50_ms"] = statistics.median(latencies)
        results["push_p99_ms"] = percentile(latencies, 0.99)
        results["server_push_writes"] = buckets[math.inf]
        results["server_push_p50_ms"] = histogram_quantile(buckets, 0.50) * 1000
        results["server_push_p99_ms"] = histogram_quantile(buckets, 0.99) * 1000

        print(f"[4/4] room create over HTTP with {rooms} rooms live, {samples} samples", flush=True)
        tokens = await in_chunks([login(http, 500_000 + n) for n in range(samples)])
        creates = []
        for token in tokens:
            started = time.perf_counter()
            response = await http.post("/rooms/create", headers={"Authorization": f"Bearer {token}"})
            creates.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
        creates.sort()
        results["create_p50_ms"] = statistics.median(creates)
        results["create_p99_ms"] = percentile(creates, 0.99)
        results["rooms"] = rooms
        results["clients"] = 2 * rooms
        for pair in watchers.values():
            for watcher in pair:
                await watcher.socket.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rooms", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--json", type=Path, default=ROOT / "var" / "bench-contest.json")
    args = parser.parse_args()
    if args.samples > 3 * args.rooms:
        # Sample n has room n % rooms solve its (n // rooms + 1)-th problem, and a room has 3.
        parser.error(f"--samples is at most 3 times --rooms ({3 * args.rooms})")

    with served(JUDGE_BACKEND="test") as (base, server):
        results = asyncio.run(measure(base, args.rooms, args.samples, server.pid))

    report = [
        ("room create over HTTP, p99", f"{results['create_p99_ms']:.2f} ms", "≤ 13 ms",
         f"p50 {results['create_p50_ms']:.2f} ms, {results['rooms']} rooms live"),
        ("submit → push on both clients, p99", f"{results['push_p99_ms']:.2f} ms", "≤ 15 ms",
         f"p50 {results['push_p50_ms']:.2f} ms, test judge, client-side"),
        ("submit → push written, server-side, p99", f"{results['server_push_p99_ms']:.2f} ms", "≤ 15 ms",
         f"p50 {results['server_push_p50_ms']:.2f} ms, {results['server_push_writes']:.0f} socket writes"),
        ("memory per live room with 2 clients", f"{results['memory_per_room_kb']:.1f} KB", "≤ 96 KB",
         f"{results['rooms']} rooms, {results['clients']} SockJS clients, server tree PSS"),
        ("  of which the 2 clients", f"{results['memory_clients_per_room_kb']:.1f} KB", "—",
         "growth while the clients connected"),
    ]  # fmt: skip
    lines = [f"{name:40} {value:>12}   target {target:8}  ({note})" for name, value, target, note in report]
    return finish(lines, results, args.json)


if __name__ == "__main__":
    sys.exit(main())

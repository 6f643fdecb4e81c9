"""One simulated contest room: two players through create, join, start, STOMP subscribe, submit, end.

Each player works through the room's problems in order: `wrong_per_right` wrong submissions,
then the right one, one submission every `submit_every` seconds. Every submission changes the
submitter's standing (a wrong one adds an attempt, a right one solves), so each has a push that
reflects it: the push latency is from sending the POST until both players' STOMP clients have
received that RoomStateResponse. A right submission the judge does not accept is tried twice more.
When both players are through, the host ends the room.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from benchmarks.loadtest.context import Context
from benchmarks.loadtest.http_api import Refused, StepFailed, User
from benchmarks.loadtest.recorder import PUSH, ROOM_SETUP
from benchmarks.loadtest.stomp_client import RoomFeed
from benchmarks.loadtest.tasks import all_or_none

PASSWORD = "4242"
RIGHT_TRIES = 3
RETRIES = 3  # a submission refused with 429 or 503 is sent again after Retry-After, this often


@dataclass
class Player:
    user: User
    feed: RoomFeed
    # problem id → wrong attempts the room counts so far
    attempts: dict[int, int] = field(default_factory=dict)


def standing(problems: list[dict], user_id: int, problem_id: int) -> dict | None:
    return next((row for row in problems if row["userId"] == user_id and row["problemId"] == problem_id), None)


def shows_attempts(key: str, user_id: int, problem_id: int, attempts: int):
    """A predicate: the state's `key` list shows at least `attempts` attempts of the user on the problem."""

    def predicate(state: dict) -> bool:
        row = standing(state.get(key, []), user_id, problem_id)
        return row is not None and row["attempts"] >= attempts

    return predicate


class Room:
    def __init__(self, context: Context, index: int) -> None:
        self.context = context
        self.random = context.random_for("room", index)
        self.room_id: int | None = None
        self.players: list[Player] = []
        self.problems: list[dict] = []

    async def run(self) -> None:
        recorder = self.context.recorder
        try:
            async with self.context.setup_slots:
                await self.set_up()
            host, guest = self.players
            await all_or_none(self.play(host, guest), self.play(guest, host))
            await self.context.api.call("POST", "/rooms/end", "/rooms/end", user=host.user,
                                        params={"roomId": self.room_id})  # fmt: skip
            self.context.live_rooms.pop(self.room_id, None)
            recorder.count("rooms_completed")
        except StepFailed:
            recorder.count("rooms_failed")
        finally:
            await asyncio.gather(*(player.feed.close() for player in self.players))

    async def set_up(self) -> None:
        context, api = self.context, self.context.api
        started = time.perf_counter()
        host, guest = await context.users.pair()
        room = await api.call("POST", "/rooms/create", "/rooms/create", user=host, params={"password": PASSWORD})
        self.room_id = room.json()["id"]
        await api.call("POST", "/rooms/join", "/rooms/join", user=guest,
                       params={"roomId": self.room_id, "password": PASSWORD})  # fmt: skip
        await api.call("POST", "/rooms/start", "/rooms/start", user=host, params={"roomId": self.room_id})
        context.live_rooms[self.room_id] = host
        detail = await api.call("GET", "/rooms/{roomId}", f"/rooms/{self.room_id}", user=host)
        self.problems = detail.json()["problems"]
        for user in (host, guest):
            feed = RoomFeed(context.recorder, context.ws_base, self.room_id, user, context.options.timeout)
            self.players.append(Player(user, feed))
        await all_or_none(*(player.feed.open() for player in self.players))
        context.recorder.latency(ROOM_SETUP, (time.perf_counter() - started) * 1000)
        context.recorder.count("rooms_started")

    async def play(self, player: Player, opponent: Player) -> None:
        options, code = self.context.options, self.context.code
        await asyncio.sleep(self.random.uniform(0, options.submit_every))
        for problem in self.problems:
            right = code.right(problem["title"])
            if right is None:
                self.context.recorder.error("no reference solution for a problem (--code real)")
                continue
            for _ in range(options.wrong_per_right):
                await self.submit(player, opponent, problem["id"], code.wrong(), right=False)
            for _ in range(RIGHT_TRIES):
                if await self.submit(player, opponent, problem["id"], right, right=True):
                    break

    async def submit(self, player: Player, opponent: Player, problem_id: int, source: str, right: bool) -> bool:
        """Submit, wait for the push on both clients, then for the cadence; True if the problem is solved."""
        context, recorder = self.context, self.context.recorder
        user_id = player.user.id
        attempts = player.attempts.get(problem_id, 0) + 1
        own = player.feed.until(shows_attempts("myProblems", user_id, problem_id, attempts))
        seen = opponent.feed.until(shows_attempts("opponentProblems", user_id, problem_id, attempts))
        body = {"roomId": self.room_id, "problemId": problem_id, "code": source, "languageId": context.code.language_id}
        for retry in range(RETRIES + 1):
            sent = time.perf_counter()
            try:
                await context.api.call("POST", "/rooms/submit", "/rooms/submit", user=player.user, json=body)
                break
            except Refused as refused:
                wait = refused.retry_after(cap=10.0)
                if wait is None or retry == RETRIES:
                    raise
                await asyncio.sleep(wait)
        recorder.count("submissions")
        recorder.count("submissions_right" if right else "submissions_wrong")
        try:
            async with asyncio.timeout(context.options.timeout):
                arrivals = await all_or_none(own, seen)
        except TimeoutError:
            recorder.error("timeout push after submit")
            raise StepFailed("push") from None
        recorder.latency(PUSH, (max(arrival for arrival, _ in arrivals) - sent) * 1000)
        row = standing(arrivals[0][1]["myProblems"], user_id, problem_id)
        player.attempts[problem_id] = row["attempts"]
        if row["solved"] != right:
            recorder.error("right code not accepted" if right else "wrong code accepted")
        await asyncio.sleep(max(0.0, sent + context.options.submit_every - time.perf_counter()))
        return row["solved"]

"""What every workload of one run shares: the options, the API, the users, the recorder, the setup slots."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field

from benchmarks.loadtest.code import CodeBook
from benchmarks.loadtest.http_api import Api, User, Users
from benchmarks.loadtest.recorder import Recorder


@dataclass(frozen=True)
class Options:
    rooms: int
    collab: int
    matching: int
    duration: float
    concurrency: int
    submit_every: float
    wrong_per_right: int
    code: str
    auth: str
    collab_protocol: str
    edits: int
    edit_every: float
    match_wait: float
    timeout: float
    seed: int


@dataclass
class Context:
    options: Options
    api: Api
    users: Users
    recorder: Recorder
    code: CodeBook
    ws_base: str
    # Rooms, collab sessions and matching pairs being set up at once are bounded by --concurrency.
    setup_slots: asyncio.Semaphore
    # What is still open on the server, for the cleanup after the deadline: room id → host,
    # collab session id → a participant.
    live_rooms: dict[int, User] = field(default_factory=dict)
    live_sessions: dict[str, User] = field(default_factory=dict)
    waiting_users: dict[int, User] = field(default_factory=dict)

    def random_for(self, workload: str, index: int) -> random.Random:
        """The random waits of one room, session or pair: its own generator, seeded from --seed, so a
        run draws the same waits whatever order the event loop runs its tasks in."""
        return random.Random(f"{self.options.seed}/{workload}/{index}")

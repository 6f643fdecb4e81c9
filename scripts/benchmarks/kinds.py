"""Actor kinds for the benchmarks: a room-sized actor, and a publisher for fan-out timing."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

from actors.actor import Actor
from actors.kinds import factories as product_factories
from actors.rate_limit import SlidingWindowLimiter


@dataclass(frozen=True)
class Touch:
    pass


@dataclass(frozen=True)
class Stamp:
    """Publish one event on `topic` carrying the host's wall time."""

    topic: str
    seq: int


class RoomSized(Actor):
    """The state of a live contest room: two players, three problems each, a limiter, a deadline."""

    def __init__(self, actor_id, context):
        super().__init__(actor_id, context.clock)
        self.events = context.events
        self.status = "ACTIVE"
        self.password = "1234"
        self.players = {1: {"joined": 0.0}, 2: {"joined": 0.0}}
        self.problems = [11, 12, 13]
        self.progress = {
            (user, problem): {"attempts": 0, "penalty": 0, "solved": False, "solvedAt": None}
            for user in self.players
            for problem in self.problems
        }
        self.limiter = SlidingWindowLimiter(5, 10, context.clock)

    async def on_activate(self):
        self.timers.at("deadline", self.clock.now() + timedelta(minutes=10), Touch())

    async def handle(self, message):
        if isinstance(message, Touch):
            return len(self.progress)
        if isinstance(message, Stamp):
            self.events.publish(message.topic, {"seq": message.seq, "at": time.time()})
            return message.seq
        raise TypeError(type(message).__name__)


def factories(config, runtime):
    return {
        **product_factories(config, runtime),
        "benchroom": lambda actor_id, context: RoomSized(actor_id, context),
    }

"""The probe actor: readiness pings it (front → Ray → host → actor), and operators can make it
publish a numbered sequence to check the event path to every front."""

from __future__ import annotations

import os
from dataclasses import dataclass

from actors.actor import Actor


@dataclass(frozen=True)
class Ping:
    pass


@dataclass(frozen=True)
class PublishSequence:
    """Publish `count` events numbered 0…count-1 on this probe's own topic."""

    count: int


class Probe(Actor):
    def __init__(self, actor_id, context):
        super().__init__(actor_id, context.clock)
        self.events = context.events

    async def handle(self, message):
        if isinstance(message, Ping):
            return {"pid": os.getpid(), "at": self.clock.now().isoformat()}
        if isinstance(message, PublishSequence):
            for seq in range(message.count):
                self.events.publish(self.id, {"seq": seq, "pid": os.getpid()})
            return {"topic": self.id, "published": message.count}
        raise TypeError(f"probe does not understand {type(message).__name__}")

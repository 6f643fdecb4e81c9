"""The probe actor: answers pings, so readiness checks the whole path front → Ray → host → actor."""

from __future__ import annotations

import os
from dataclasses import dataclass

from actors.actor import Actor


@dataclass(frozen=True)
class Ping:
    pass


class Probe(Actor):
    async def handle(self, message):
        if isinstance(message, Ping):
            return {"pid": os.getpid(), "at": self.clock.now().isoformat()}
        raise TypeError(f"probe does not understand {type(message).__name__}")

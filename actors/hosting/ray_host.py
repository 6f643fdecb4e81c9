"""The Ray actor that carries an `ActorHost`: one worker process, many virtual actors."""

from __future__ import annotations

import os

import ray

from actors.clock import RealClock
from actors.host import ActorHost, Envelope, Reply
from actors.hosting.config import RuntimeConfig, load_factories


class HostActor:
    def __init__(self, name: str, config: RuntimeConfig) -> None:
        self.name = name
        self.host = ActorHost(
            load_factories(config),
            RealClock(),
            capacity=config.host_capacity,
            idle_timeout=config.idle_timeout,
            sweep_interval=config.sweep_interval,
        )
        self._sweeping = False
        self.batches = 0
        self.messages = 0

    async def deliver(self, batch: list[Envelope]) -> list[Reply]:
        if not self._sweeping:
            self.host.start()
            self._sweeping = True
        self.batches += 1
        self.messages += len(batch)
        return await self.host.deliver(batch)

    async def stats(self) -> dict:
        return {**self.host.stats(), "batches": self.batches, "messages": self.messages, "pid": os.getpid()}

    async def actor_ids(self) -> list[str]:
        return list(self.host._actors)


RemoteHost = ray.remote(HostActor)

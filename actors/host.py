"""A host holds many virtual actors, activating them on first message and passivating idle ones.

This class is the whole behaviour of a host; the Ray actor that carries it across the
cluster is a thin shell around it, so it is tested here as a plain object. One call to
`deliver` carries a batch of envelopes (everything one front sent within one event-loop
tick) and answers them in the same order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from actors.actor import Actor
from actors.clock import Clock, TimerHandle
from actors.context import ActorContext, DiscardEvents, EventSink

log = logging.getLogger("peerprep.actors.host")

ActorFactory = Callable[[str, ActorContext], Actor]


class SharingFactory:
    """An actor factory whose actors share something the host's stats report, by name
    (the rooms: `judge=queue.stats`)."""

    def __init__(self, factory: ActorFactory, **shared: Callable[[], Any]) -> None:
        self._factory = factory
        self._shared = shared

    def __call__(self, actor_id: str, context: ActorContext) -> Actor:
        return self._factory(actor_id, context)

    def shared_stats(self) -> dict[str, Any]:
        return {name: stats() for name, stats in self._shared.items()}


class HostFull(Exception):
    """The host is at capacity; the directory should place the actor elsewhere."""


class UnknownActorKind(Exception):
    pass


@dataclass(frozen=True)
class Envelope:
    actor_id: str
    message: Any


@dataclass(frozen=True)
class Reply:
    """The answer to one envelope: a value, or the exception its handler raised."""

    value: Any = None
    error: BaseException | None = None

    def unwrap(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value


def kind_of(actor_id: str) -> str:
    """Actor ids are `kind:key`, e.g. `room:42`; the kind selects the factory."""
    kind, separator, key = actor_id.partition(":")
    if not separator or not kind or not key:
        raise UnknownActorKind(f"actor id {actor_id!r} is not of the form kind:key")
    return kind


class ActorHost:
    def __init__(
        self,
        factories: dict[str, ActorFactory],
        clock: Clock,
        capacity: int = 10_000,
        idle_timeout: float = 600.0,
        sweep_interval: float = 30.0,
        events: EventSink | None = None,
    ) -> None:
        self._factories = factories
        self._clock = clock
        self._context = ActorContext(clock=clock, events=events or DiscardEvents())
        self.capacity = capacity
        self.idle_timeout = idle_timeout
        self.sweep_interval = sweep_interval
        self._actors: dict[str, Actor] = {}
        self._sweep: TimerHandle | None = None
        self.activations = 0
        self.passivations = 0

    def __len__(self) -> int:
        return len(self._actors)

    def __contains__(self, actor_id: str) -> bool:
        return actor_id in self._actors

    def actor_ids(self) -> list[str]:
        return list(self._actors)

    def activation(self, actor_id: str) -> Actor:
        """The live actor for `actor_id`, created when absent."""
        actor = self._actors.get(actor_id)
        if actor is None:
            kind = kind_of(actor_id)
            factory = self._factories.get(kind)
            if factory is None:
                raise UnknownActorKind(f"no actor kind {kind!r} on this host")
            if len(self._actors) >= self.capacity:
                raise HostFull(f"host at capacity ({self.capacity} actors)")
            actor = factory(actor_id, self._context)
            self._actors[actor_id] = actor
            self.activations += 1
        return actor

    async def deliver(self, batch: list[Envelope]) -> list[Reply]:
        """Hand each envelope to its actor's mailbox, then answer all of them in order."""
        pending: list[asyncio.Future | Reply] = []
        for envelope in batch:
            try:
                pending.append(self.activation(envelope.actor_id).ask(envelope.message))
            except (HostFull, UnknownActorKind) as error:
                pending.append(Reply(error=error))
        replies = []
        for item in pending:
            if isinstance(item, Reply):
                replies.append(item)
                continue
            try:
                replies.append(Reply(value=await item))
            except Exception as error:
                replies.append(Reply(error=error))
        for actor_id in {envelope.actor_id for envelope in batch}:
            actor = self._actors.get(actor_id)
            if actor is not None and actor.retiring:
                await self.passivate(actor_id)
        return replies

    async def passivate_idle(self) -> int:
        """Deactivate actors with nothing queued that have seen no message for `idle_timeout`
        and do not object (`Actor.may_passivate`)."""
        now = self._clock.monotonic()
        idle = [
            actor
            for actor in self._actors.values()
            if not actor.busy and now - actor.last_message_at >= self.idle_timeout and actor.may_passivate()
        ]
        for actor in idle:
            await self.passivate(actor.id)
        return len(idle)

    async def passivate(self, actor_id: str) -> None:
        actor = self._actors.get(actor_id)
        if actor is None:
            return
        await actor.deactivate()
        if not actor.busy and not actor.active and self._actors.get(actor_id) is actor:
            del self._actors[actor_id]
            self.passivations += 1

    def start(self) -> None:
        """Arm the idle sweep on the host's clock."""

        def sweep() -> None:
            self._sweep = self._clock.call_later(self.sweep_interval, sweep)
            asyncio.get_running_loop().create_task(self._sweep_safely())

        self._sweep = self._clock.call_later(self.sweep_interval, sweep)

    async def _sweep_safely(self) -> None:
        try:
            await self.passivate_idle()
        except Exception:
            log.exception("idle sweep failed")

    async def stop(self) -> None:
        """Cancel the sweep and deactivate every actor (flushing their state)."""
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None
        for actor_id in list(self._actors):
            await self.passivate(actor_id)

    def stats(self) -> dict[str, Any]:
        """Counts, live actors by kind with their own `Actor.stats` summed, and what factories share."""
        kinds: dict[str, dict[str, float]] = {kind: {"live": 0} for kind in self._factories}
        for actor_id, actor in self._actors.items():
            figures = kinds.setdefault(kind_of(actor_id), {"live": 0})
            figures["live"] += 1
            for name, value in actor.stats().items():
                figures[name] = figures.get(name, 0) + value
        shared: dict[str, Any] = {}
        for factory in self._factories.values():
            if isinstance(factory, SharingFactory):
                shared.update(factory.shared_stats())
        return {
            "actors": len(self._actors),
            "capacity": self.capacity,
            "activations": self.activations,
            "passivations": self.passivations,
            "kinds": kinds,
            "shared": shared,
        }

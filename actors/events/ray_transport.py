"""Events over Ray, for the embedded default without Redis: fronts long-poll their hosts.

Each host keeps, per front, the topics it wants and a bounded queue; a front keeps one
poll outstanding per host it listens to, so an event reaches it one Ray round trip after
it is published. Events of one actor come from one host's queue, so their order is kept.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ray.exceptions import RayError

from actors.background import BackgroundTasks
from actors.clock import Clock
from actors.events.bus import EventBus
from actors.events.subscriptions import Overflow
from actors.hosting.client import ActorUnavailable

log = logging.getLogger("peerprep.events.ray")


@dataclass
class _FrontQueue:
    topics: set[str] = field(default_factory=set)
    events: deque = field(default_factory=deque)
    waiter: asyncio.Future | None = None
    last_seen: float = 0.0


class EventHub:
    """Host side: which front wants which topic, and what is waiting for each front."""

    def __init__(self, clock: Clock, limit: int = 10_000, lease: float = 60.0) -> None:
        self._clock = clock
        self._limit = limit
        self._lease = lease
        self._fronts: dict[str, _FrontQueue] = {}
        self._by_topic: dict[str, set[str]] = {}
        self.dropped = 0

    def publish(self, topic: str, event: Any) -> None:
        """Queue (topic, event, publication time) for each front that wants the topic."""
        fronts = self._by_topic.get(topic)
        if not fronts:
            return
        published_at = self._clock.now().timestamp()
        for front_id in fronts:
            front = self._fronts[front_id]
            if len(front.events) >= self._limit:
                front.events.popleft()
                self.dropped += 1
            front.events.append((topic, event, published_at))
            if front.waiter is not None and not front.waiter.done():
                front.waiter.set_result(None)

    def update(self, front_id: str, add: list[str], remove: list[str], replace: bool = False) -> None:
        front = self._fronts.setdefault(front_id, _FrontQueue())
        front.last_seen = self._clock.monotonic()
        if replace:
            remove = list(front.topics - set(add))
        self._forget_topics(front_id, remove)
        for topic in add:
            front.topics.add(topic)
            self._by_topic.setdefault(topic, set()).add(front_id)
        self._expire()

    async def poll(self, front_id: str, wait: float) -> tuple[bool, list]:
        """(whether this host knows the front, the events waiting for it); waits up to `wait` s."""
        front = self._fronts.get(front_id)
        if front is None:
            return False, []
        front.last_seen = self._clock.monotonic()
        if not front.events:
            front.waiter = asyncio.get_running_loop().create_future()
            try:
                await asyncio.wait_for(asyncio.shield(front.waiter), wait)
            except TimeoutError:
                pass
            finally:
                front.waiter = None
        events = list(front.events)
        front.events.clear()
        return True, events

    def _forget_topics(self, front_id: str, topics: list[str]) -> None:
        front = self._fronts[front_id]
        for topic in topics:
            front.topics.discard(topic)
            members = self._by_topic.get(topic)
            if members is not None:
                members.discard(front_id)
                if not members:
                    del self._by_topic[topic]

    def _expire(self) -> None:
        """Forget fronts that stopped polling (a front process died)."""
        cutoff = self._clock.monotonic() - self._lease
        for front_id in [key for key, front in self._fronts.items() if front.last_seen < cutoff]:
            self._forget_topics(front_id, list(self._fronts[front_id].topics))
            del self._fronts[front_id]

    def fronts(self) -> dict[str, list[str]]:
        return {front_id: sorted(front.topics) for front_id, front in self._fronts.items()}


class RayEventBus(EventBus):
    """Front side: one long poll per host that publishes a topic this front subscribed to.

    Topics are the ids of the actors that publish them, so `_confirm` finds the one host a
    topic comes from; a host that restarted answers a poll with "unknown front" and is told
    the subscriptions again.
    """

    def __init__(
        self, client, limit: int = 1000, overflow: Overflow = Overflow.DROP_OLDEST, poll_wait: float = 10.0
    ) -> None:
        super().__init__(limit, overflow)
        self.front_id = uuid.uuid4().hex
        self._client = client
        self._poll_wait = poll_wait
        self._pollers: dict[str, asyncio.Task] = {}
        self._background = BackgroundTasks()

    def _watch(self, topic: str) -> None:
        """Registering with the topic's host happens in `_confirm`, which the subscriber awaits."""

    async def _confirm(self, topic: str) -> None:
        """Topics are the ids of the actors that publish them: register with that actor's host."""
        host = await self._client.locate(topic)
        if host not in self._pollers:
            await self._start_polling(host)
        else:
            await self._tell(host, [topic], [], strict=True)

    def _unwatch(self, topic: str) -> None:
        host = self._client.host_of(topic)
        if host in self._pollers:
            self._background.spawn(self._tell(host, [], [topic]))

    async def _tell(
        self, host: str, add: list[str], remove: list[str], replace: bool = False, strict: bool = False
    ) -> None:
        try:
            await self._client.host_handle(host).event_subscriptions.remote(self.front_id, add, remove, replace)
        except RayError as error:
            if strict:
                raise ActorUnavailable(f"actor host {host} is unavailable: {type(error).__name__}") from error
            log.warning("could not update subscriptions on %s: %s", host, type(error).__name__)

    async def start(self) -> None:
        """Nothing to do until the first subscription: hosts are polled on demand."""

    async def _start_polling(self, host: str) -> None:
        self._pollers[host] = self._background.spawn(self._poll(host))
        await self._tell(host, sorted(self.fanout.topics), [], replace=True, strict=True)

    async def _poll(self, host: str) -> None:
        backoff = 0.05
        while True:
            try:
                known, events = await self._client.host_handle(host).poll_events.remote(self.front_id, self._poll_wait)
            except RayError as error:
                log.warning("polling %s failed (%s); retrying", host, type(error).__name__)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
                continue
            backoff = 0.05
            if not known:
                await self._tell(host, sorted(self.fanout.topics), [], replace=True)
            for topic, event, published_at in events:
                self._deliver(topic, event, published_at)

    async def close(self) -> None:
        await self._background.cancel_all()
        self._pollers.clear()

"""The front's side of the event bus: subscriptions with bounded queues, fanned out by topic.

A slow subscriber never grows memory without bound: past its limit it either loses its
oldest events (`drop-oldest`) or is disconnected (`disconnect`); both are counted.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from enum import StrEnum
from typing import Any


class Overflow(StrEnum):
    DROP_OLDEST = "drop-oldest"
    DISCONNECT = "disconnect"


class SubscriptionClosed(Exception):
    """The subscription ended: closed by its owner, or disconnected for falling behind."""


class Subscription:
    __slots__ = ("_fanout", "_queue", "_waiter", "close_reason", "dropped", "limit", "overflow", "topic")

    def __init__(self, topic: str, limit: int, overflow: Overflow, fanout: Fanout) -> None:
        self.topic = topic
        self.limit = limit
        self.overflow = overflow
        self.dropped = 0
        self.close_reason: str | None = None
        self._fanout = fanout
        # Only while events wait: even an empty deque holds a 64-slot block (760 bytes), and a
        # front holds a subscription per watching client, nearly always with nothing queued.
        self._queue: deque[Any] | None = None
        self._waiter: asyncio.Future | None = None

    @property
    def closed(self) -> bool:
        return self.close_reason is not None

    def offer(self, event: Any) -> None:
        if self.closed:
            return
        queue = self._queue
        if queue is None:
            queue = self._queue = deque()
        if len(queue) >= self.limit:
            if self.overflow is Overflow.DISCONNECT:
                self._fanout.disconnected += 1
                self.close("subscriber fell behind")
                return
            queue.popleft()
            self.dropped += 1
            self._fanout.dropped += 1
        queue.append(event)
        self._wake()

    async def get(self) -> Any:
        while not self._queue:
            if self.closed:
                raise SubscriptionClosed(self.close_reason)
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        queue = self._queue
        event = queue.popleft()
        if not queue:
            self._queue = None
        return event

    def __aiter__(self):
        return self

    async def __anext__(self) -> Any:
        try:
            return await self.get()
        except SubscriptionClosed:
            raise StopAsyncIteration from None

    def close(self, reason: str = "closed") -> None:
        if self.closed:
            return
        self.close_reason = reason
        if reason != "closed":
            self._queue = None
        self._fanout.remove(self)
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


class Fanout:
    """Topic → local subscriptions; tells the transport when a topic gains or loses its last one."""

    def __init__(self, on_first: Callable[[str], None], on_last: Callable[[str], None]) -> None:
        self._by_topic: dict[str, set[Subscription]] = {}
        self._on_first = on_first
        self._on_last = on_last
        self.dropped = 0
        self.disconnected = 0
        self.delivered = 0

    def add(self, subscription: Subscription) -> None:
        members = self._by_topic.get(subscription.topic)
        if members is None:
            members = self._by_topic[subscription.topic] = set()
            self._on_first(subscription.topic)
        members.add(subscription)

    def remove(self, subscription: Subscription) -> None:
        members = self._by_topic.get(subscription.topic)
        if members is None or subscription not in members:
            return
        members.discard(subscription)
        if not members:
            del self._by_topic[subscription.topic]
            self._on_last(subscription.topic)

    def dispatch(self, topic: str, event: Any) -> None:
        for subscription in list(self._by_topic.get(topic, ())):
            subscription.offer(event)
            self.delivered += 1

    @property
    def topics(self) -> set[str]:
        return set(self._by_topic)

    def subscribers(self, topic: str) -> int:
        return len(self._by_topic.get(topic, ()))

"""The event-bus interface fronts use; transports implement `_watch`, `_unwatch`, `start`, `close`."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from actors.events.subscriptions import Fanout, Overflow, Subscription


class EventBus(ABC):
    def __init__(self, limit: int = 1000, overflow: Overflow = Overflow.DROP_OLDEST) -> None:
        self.limit = limit
        self.overflow = overflow
        self.fanout = Fanout(on_first=self._watch, on_last=self._unwatch)
        self.on_lag: Callable[[float], None] | None = None
        """Called with each received event's seconds from publication (wall clocks) to here."""

    async def subscribe(self, topic: str, limit: int | None = None, overflow: Overflow | None = None) -> Subscription:
        """A subscription that receives every event published on `topic` after this returns."""
        subscription = Subscription(topic, limit or self.limit, overflow or self.overflow, self.fanout)
        self.fanout.add(subscription)
        try:
            await self._confirm(topic)
        except BaseException:
            subscription.close()
            raise
        return subscription

    def stats(self) -> dict[str, int]:
        return {
            "topics": len(self.fanout.topics),
            "delivered": self.fanout.delivered,
            "dropped": self.fanout.dropped,
            "disconnected": self.fanout.disconnected,
        }

    def _deliver(self, topic: str, event: Any, published_at: float) -> None:
        """Hand an event received from the transport to the local subscribers of its topic."""
        if self.on_lag is not None:
            self.on_lag(max(0.0, time.time() - published_at))
        self.fanout.dispatch(topic, event)

    @abstractmethod
    def _watch(self, topic: str) -> None:
        """The first local subscriber of `topic` appeared: start receiving it."""

    @abstractmethod
    def _unwatch(self, topic: str) -> None:
        """The last local subscriber of `topic` left: stop receiving it."""

    @abstractmethod
    async def _confirm(self, topic: str) -> None:
        """Return once events published on `topic` from now on will reach this front."""

    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

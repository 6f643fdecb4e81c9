"""What a host gives every actor it creates: the clock and where to publish events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from actors.clock import Clock


class EventSink(Protocol):
    def publish(self, topic: str, event: Any) -> None:
        """Queue `event` for everyone subscribed to `topic`; never blocks the actor."""


class DiscardEvents:
    """A sink for hosts that run without an event transport."""

    def publish(self, topic: str, event: Any) -> None:
        return None


@dataclass(frozen=True)
class ActorContext:
    clock: Clock
    events: EventSink

"""Timers owned by one actor. A due timer does not call into the actor: it posts a message
to the actor's mailbox, so timer work is serialized with every other message."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from actors.clock import TimerHandle

if TYPE_CHECKING:
    from actors.actor import Actor


class Timers:
    def __init__(self, actor: Actor) -> None:
        self._actor = actor
        self._handles: dict[str, TimerHandle] = {}

    def once(self, name: str, delay: float, message: Any) -> None:
        """Post `message` after `delay` seconds; replaces a timer of the same name."""
        self.cancel(name)

        def fire() -> None:
            self._handles.pop(name, None)
            self._actor.tell(message)

        self._handles[name] = self._actor.clock.call_later(delay, fire)

    def at(self, name: str, deadline: datetime, message: Any) -> None:
        """Post `message` at a wall-clock deadline (at once if it has passed).

        Actors store such deadlines and call this again when re-activated, so a deadline
        outlives the process that armed it.
        """
        self.once(name, (deadline - self._actor.clock.now()).total_seconds(), message)

    def every(self, name: str, interval: float, message: Any) -> None:
        """Post `message` every `interval` seconds until cancelled."""
        if interval <= 0:
            raise ValueError("interval must be positive")
        self.cancel(name)

        def fire() -> None:
            self._handles[name] = self._actor.clock.call_later(interval, fire)
            self._actor.tell(message)

        self._handles[name] = self._actor.clock.call_later(interval, fire)

    def cancel(self, name: str) -> None:
        handle = self._handles.pop(name, None)
        if handle is not None:
            handle.cancel()

    def cancel_all(self) -> None:
        for name in list(self._handles):
            self.cancel(name)

    def __contains__(self, name: str) -> bool:
        return name in self._handles

    def __len__(self) -> int:
        return len(self._handles)

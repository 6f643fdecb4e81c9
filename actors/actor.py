"""The virtual actor: an id, a mailbox, lifecycle hooks, timers it owns, and its own clock.

An actor knows nothing of Ray, HTTP or SQL. Messages to it run one at a time, in arrival
order; a handler that raises answers that one message with the error and the actor lives
on. It is activated before its first message (`on_activate`, e.g. rebuild from the
database) and deactivated on request (`on_deactivate`, e.g. flush); its timers are
cancelled then. A host keeps many actors and decides when to activate and passivate them.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass
from typing import Any

from actors.clock import Clock
from actors.timers import Timers

log = logging.getLogger("peerprep.actors")


class _Deactivate:
    """Mailbox marker: deactivate once the messages queued before it have run."""


@dataclass(frozen=True)
class Wake:
    """Activate and do nothing else: how a restarted host brings back the actors it held,
    so that they re-arm their timers without waiting for someone to write to them."""


class Actor:
    def __init__(self, actor_id: str, clock: Clock) -> None:
        self.id = actor_id
        self.clock = clock
        self.timers = Timers(self)
        self.active = False
        self.retiring = False
        """Set by a handler when this activation is of no use (e.g. a room that does not exist):
        the host passivates the actor right after answering, instead of keeping it until idle."""
        self.last_message_at = clock.monotonic()
        self._mailbox: deque[tuple[Any, asyncio.Future | None]] = deque()
        self._drain_task: asyncio.Task | None = None

    async def on_activate(self) -> None:
        """Called before the first message after creation or passivation."""

    async def on_deactivate(self) -> None:
        """Called once when the actor is passivated; timers are already cancelled."""

    def may_passivate(self) -> bool:
        """Whether an idle sweep may deactivate this actor now (say no while a timer must fire)."""
        return True

    def stats(self) -> dict[str, float]:
        """Numbers this actor adds to its host's stats, summed over the actors of its kind
        (e.g. a running contest counts 1 under `active`)."""
        return {}

    async def handle(self, message: Any) -> Any:
        """Answer one message. Subclasses dispatch on the message type."""
        raise NotImplementedError

    def ask(self, message: Any) -> asyncio.Future:
        """Queue `message`; the future resolves with the handler's answer or its exception."""
        future = asyncio.get_running_loop().create_future()
        self._post(message, future)
        return future

    def tell(self, message: Any) -> None:
        """Queue `message` without waiting for an answer (timers use this)."""
        self._post(message, None)

    def deactivate(self) -> asyncio.Future:
        """Queue deactivation after the messages already waiting; resolves when done."""
        return self.ask(_Deactivate())

    @property
    def busy(self) -> bool:
        return self._drain_task is not None

    def _post(self, message: Any, future: asyncio.Future | None) -> None:
        self._mailbox.append((message, future))
        self.last_message_at = self.clock.monotonic()
        if self._drain_task is None:
            self._drain_task = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        try:
            while self._mailbox:
                message, future = self._mailbox.popleft()
                if future is not None and future.cancelled():
                    continue
                try:
                    result = await self._run(message)
                except Exception as error:
                    if future is None:
                        log.exception("actor %s failed on %r", self.id, type(message).__name__)
                    elif not future.done():
                        future.set_exception(error)
                else:
                    if future is not None and not future.done():
                        future.set_result(result)
        finally:
            self._drain_task = None

    async def _run(self, message: Any) -> Any:
        if isinstance(message, _Deactivate):
            self.timers.cancel_all()
            if self.active:
                self.active = False
                await self.on_deactivate()
            return None
        if not self.active:
            await self.on_activate()
            self.active = True
        if isinstance(message, Wake):
            return None
        return await self.handle(message)

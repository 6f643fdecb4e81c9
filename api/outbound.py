"""The outbound side of one socket, shared by the STOMP and the collab connections: messages wait
in a queue bounded in bytes, and one writer sends them in order."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

Message = TypeVar("Message")


class OutboundQueue(Generic[Message]):
    def __init__(self, limit_bytes: int) -> None:
        self.limit_bytes = limit_bytes
        self._messages: deque[tuple[Message, int]] = deque()
        self._bytes = 0
        self._sending = False
        self._ready = asyncio.Event()

    @property
    def queued_bytes(self) -> int:
        return self._bytes

    @property
    def idle(self) -> bool:
        """Nothing queued and nothing being sent: a message written directly overtakes none."""
        return not self._messages and not self._sending

    def offer(self, message: Message, size: int) -> bool:
        """Queues `message`; False, with everything queued dropped, when it would pass the limit
        (the client reads slower than it is sent to, and its connection is to be closed)."""
        if self._bytes + size > self.limit_bytes:
            self.clear()
            return False
        self.push(message, size)
        return True

    def push(self, message: Message, size: int) -> None:
        """Queues `message` whatever the limit (a last frame before closing)."""
        self._messages.append((message, size))
        self._bytes += size
        self._ready.set()

    def clear(self) -> None:
        self._messages.clear()
        self._bytes = 0

    def wake(self) -> None:
        """Lets the writer look at `finished` again."""
        self._ready.set()

    async def drain(self, send: Callable[[Message], Awaitable[None]], finished: Callable[[], bool]) -> None:
        """Sends what is queued, in order, until nothing is and `finished()` holds."""
        while True:
            while self._messages:
                message, size = self._messages.popleft()
                self._bytes -= size
                self._sending = True
                try:
                    await send(message)
                finally:
                    self._sending = False
            if finished():
                return
            self._ready.clear()
            await self._ready.wait()

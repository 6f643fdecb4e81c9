"""The outbound side of one socket, shared by the STOMP and the collab connections: messages wait
in a queue bounded in bytes, and a writer task, started by the connection when it queues one,
sends them in order and ends once the queue is empty.

Most frames never wait (a socket that can take them is written at once), so the queue is made
when a message first waits and dropped once drained: an empty deque is ~760 bytes, held by
every one of thousands of sockets otherwise."""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

Message = TypeVar("Message")


class OutboundQueue(Generic[Message]):
    def __init__(self, limit_bytes: int) -> None:
        self.limit_bytes = limit_bytes
        self._messages: deque[tuple[Message, int]] | None = None
        self._bytes = 0
        self._sending = False

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
        if self._messages is None:
            self._messages = deque()
        self._messages.append((message, size))
        self._bytes += size

    def clear(self) -> None:
        self._messages = None
        self._bytes = 0

    async def drain(self, send: Callable[[Message], Awaitable[None]]) -> None:
        """Sends what is queued, in order, until nothing is; returns in the step that found the
        queue empty, so a message queued after that needs a new writer."""
        while self._messages:
            message, size = self._messages.popleft()
            self._bytes -= size
            self._sending = True
            try:
                await send(message)
            finally:
                self._sending = False
        self._messages = None

"""The outbound side of one socket, shared by the STOMP and the collab connections: messages wait
in a queue bounded in bytes, and a writer task, started when one is queued (`start_writer`),
sends them in order and ends once the queue is empty.

Most frames never wait (a socket that can take them is written at once), so the queue is made
when a message first waits and dropped once drained: an empty deque is ~760 bytes, held by
every one of thousands of sockets otherwise."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

Message = TypeVar("Message")


class OutboundQueue(Generic[Message]):
    """`send` writes one message (raising once the peer is gone); `lost(error)` is told when it
    raised, after which the writer ends."""

    def __init__(
        self, limit_bytes: int, send: Callable[[Message], Awaitable[None]], lost: Callable[[Exception], None]
    ) -> None:
        self.limit_bytes = limit_bytes
        self._send = send
        self._lost = lost
        self._messages: deque[tuple[Message, int]] | None = None
        self._bytes = 0
        self._sending = False
        self._writer: asyncio.Task | None = None

    @property
    def queued_bytes(self) -> int:
        return self._bytes

    @property
    def idle(self) -> bool:
        """Nothing queued and nothing being sent: a message written directly overtakes none."""
        return not self._messages and not self._sending

    @property
    def writing(self) -> bool:
        """A writer task is under way."""
        return self._writer is not None

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

    def start_writer(self) -> None:
        """Starts a writer for what is queued, unless one is under way."""
        if self._writer is None:
            self._writer = asyncio.create_task(self._write())

    async def finish(self, grace_seconds: float | None) -> None:
        """Lets the writer send what is queued for up to `grace_seconds` (None: not at all), then
        stops it."""
        writer = self._writer
        if writer is None:
            return
        if grace_seconds is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(writer), grace_seconds)
        writer.cancel()
        await asyncio.gather(writer, return_exceptions=True)

    async def _write(self) -> None:
        """Sends what is queued, in order, until nothing is; ends in the step that found the
        queue empty, so a message queued after that starts a new writer."""
        try:
            while self._messages:
                message, size = self._messages.popleft()
                self._bytes -= size
                self._sending = True
                try:
                    await self._send(message)
                finally:
                    self._sending = False
            self._messages = None
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self._lost(error)
        finally:
            self._writer = None

"""What the load tester's WebSocket clients share: a socket with one reader task, and closing both."""

from __future__ import annotations

import asyncio
import contextlib


class ReaderSocket:
    """A client's socket and the task that reads it; `closing` tells the reader an end is expected."""

    socket = None
    reader: asyncio.Task | None = None
    closing = False

    async def close_socket(self) -> None:
        self.closing = True
        if self.socket is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(5):
                    await self.socket.close()
        if self.reader is not None:
            self.reader.cancel()
            await asyncio.gather(self.reader, return_exceptions=True)

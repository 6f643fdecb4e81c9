"""An in-test StompApplication whose feeds the test pushes to, and a transport that records frames."""

from __future__ import annotations

import asyncio
import json

from api.contest.stomp.application import Principal, Refused, Timed
from api.contest.stomp.frames import Frame, FrameParser


class QueueFeed:
    """Delivers what is pushed, in order; an Exception pushed is raised by `next()`."""

    def __init__(self, initial: list[str]) -> None:
        self.queue: asyncio.Queue[str | Timed | Exception | None] = asyncio.Queue()
        for body in initial:
            self.queue.put_nowait(body)
        self.closed = False

    async def next(self) -> str | Timed | None:
        item = await self.queue.get()
        if isinstance(item, Exception):
            raise item
        return item

    def close(self) -> None:
        self.closed = True


class FakeApplication:
    """Tokens: None is anonymous, `user-<n>` is user n, `bad` is refused.

    Destinations under `/topic/denied` are refused, `/topic/broken` raises, and every other
    destination gets a feed whose first message is `{"destination", "user", "seq": 0}`.
    """

    def __init__(self) -> None:
        self.tokens: list[str | None] = []
        self.feeds: dict[str, list[QueueFeed]] = {}
        self._changed = asyncio.Condition()

    async def authenticate(self, token: str | None) -> Principal:
        self.tokens.append(token)
        if token is None:
            return Principal()
        if token.startswith("user-") and token[5:].isdigit():
            return Principal(int(token[5:]))
        raise Refused("Invalid token")

    async def subscribe(self, principal: Principal, destination: str) -> QueueFeed:
        if destination.startswith("/topic/denied"):
            raise Refused("Not a participant: cannot subscribe")
        if destination == "/topic/broken":
            raise RuntimeError("the application broke")
        feed = QueueFeed([json.dumps({"destination": destination, "user": principal.user_id, "seq": 0})])
        async with self._changed:
            self.feeds.setdefault(destination, []).append(feed)
            self._changed.notify_all()
        return feed

    def open_feeds(self, destination: str) -> list[QueueFeed]:
        return [feed for feed in self.feeds.get(destination, []) if not feed.closed]

    def push(self, destination: str, payload: object) -> None:
        for feed in self.open_feeds(destination):
            feed.queue.put_nowait(payload if isinstance(payload, Exception) else json.dumps(payload))

    async def wait_for_feeds(self, destination: str, count: int, within: float = 10.0) -> list[QueueFeed]:
        async def enough() -> list[QueueFeed]:
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.feeds.get(destination, [])) >= count)
                return self.feeds[destination]

        return await asyncio.wait_for(enough(), within)


class RecordingTransport:
    """A StompTransport that parses what the session sends; `block` holds sends back (a slow client)."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.frames: asyncio.Queue[Frame | str] = asyncio.Queue()
        self.closed = asyncio.Event()
        self.block = asyncio.Event()
        self.block.set()
        self.fail_sends = False
        self._parser = FrameParser()

    async def send(self, text: str) -> None:
        await self.block.wait()
        if self.fail_sends:
            raise ConnectionError("peer gone")
        self.sent.append(text)
        if text == "\n":
            self.frames.put_nowait("heart-beat")
            return
        self._parser.feed(text.encode())
        while (frame := self._parser.next_frame()) is not None:
            self.frames.put_nowait(frame)

    async def close(self) -> None:
        self.closed.set()

    async def next(self, within: float = 5.0) -> Frame | str:
        return await asyncio.wait_for(self.frames.get(), within)

    async def next_frame(self, within: float = 5.0) -> Frame:
        """The next frame that is not a heart-beat."""
        while True:
            item = await self.next(within)
            if isinstance(item, Frame):
                return item

"""Events over Redis pub/sub: any number of fronts (and other services) can listen.

Hosts publish through one connection, in order, so events of one actor keep their order.
Each message is `{"at": <publication time, Unix seconds>, "event": <the event>}`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from typing import Any

from redis.asyncio import Redis

from actors.background import BackgroundTasks
from actors.events.bus import EventBus
from actors.events.subscriptions import Overflow

log = logging.getLogger("peerprep.events.redis")


def channel(prefix: str, topic: str) -> str:
    return f"{prefix}events:{topic}"


class RedisEventSink:
    """Host side: queue events and publish them from one task, pipelined, in order."""

    def __init__(self, url: str, prefix: str = "", limit: int = 100_000) -> None:
        self._redis = Redis.from_url(url)
        self._prefix = prefix
        self._limit = limit
        self._queue: deque[tuple[str, str]] = deque()
        self._task: asyncio.Task | None = None
        self.dropped = 0

    def publish(self, topic: str, event: Any) -> None:
        if len(self._queue) >= self._limit:
            self._queue.popleft()
            self.dropped += 1
        self._queue.append((channel(self._prefix, topic), json.dumps({"at": time.time(), "event": event})))
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch = [self._queue.popleft() for _ in range(min(len(self._queue), 500))]
                try:
                    async with self._redis.pipeline(transaction=False) as pipe:
                        for name, payload in batch:
                            pipe.publish(name, payload)
                        await pipe.execute()
                except Exception:
                    log.exception("publishing %d events to Redis failed", len(batch))
                    self.dropped += len(batch)
        finally:
            self._task = None

    async def close(self) -> None:
        await self._redis.aclose()


class RedisEventBus(EventBus):
    """Front side: one pub/sub connection; channels follow the local subscriptions."""

    def __init__(self, url: str, prefix: str = "", limit: int = 1000, overflow: Overflow = Overflow.DROP_OLDEST):
        super().__init__(limit, overflow)
        self._redis = Redis.from_url(url)
        self._prefix = prefix
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        self._lock = asyncio.Lock()
        self._background = BackgroundTasks()

    def _watch(self, topic: str) -> None:
        """Subscribing happens in `_confirm`, which the subscriber awaits."""

    def _unwatch(self, topic: str) -> None:
        self._background.spawn(self._unsubscribe(topic))

    async def _confirm(self, topic: str) -> None:
        async with self._lock:
            name = channel(self._prefix, topic).encode()
            if name not in self._pubsub.channels:
                await self._pubsub.subscribe(name)

    async def _unsubscribe(self, topic: str) -> None:
        async with self._lock:
            if self.fanout.subscribers(topic) == 0:
                try:
                    await self._pubsub.unsubscribe(channel(self._prefix, topic))
                except Exception:
                    log.exception("Redis unsubscribe from %s failed", topic)

    async def start(self) -> None:
        self._background.spawn(self._read())

    async def _read(self) -> None:
        cut = len(channel(self._prefix, ""))
        while True:
            if not self._pubsub.subscribed:
                await asyncio.sleep(0.05)
                continue
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except Exception:
                log.exception("reading from Redis failed")
                await asyncio.sleep(0.5)
                continue
            if message is None or message["type"] != "message":
                continue
            envelope = json.loads(message["data"])
            self._deliver(message["channel"].decode()[cut:], envelope["event"], envelope["at"])

    async def close(self) -> None:
        await self._background.cancel_all()
        await self._pubsub.aclose()
        await self._redis.aclose()

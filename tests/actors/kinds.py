"""Actor kinds for the hosting tests: a counter that writes through to a real SQLite file."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from actors.actor import Actor


@dataclass(frozen=True)
class Increment:
    pass


@dataclass(frozen=True)
class Get:
    pass


@dataclass(frozen=True)
class SetDeadline:
    seconds: float


@dataclass(frozen=True)
class Expire:
    pass


@dataclass(frozen=True)
class Sleep:
    seconds: float


@dataclass(frozen=True)
class Pid:
    pass


@dataclass(frozen=True)
class Boom:
    pass


@dataclass(frozen=True)
class Unsendable:
    """Answer with something that cannot be pickled (a lock)."""


@dataclass(frozen=True)
class Unreadable:
    """Answer with something that pickles but cannot be unpickled (`UnreadableAnswer`)."""


def _refuse_to_load():
    raise RuntimeError("this answer cannot be read")


class UnreadableAnswer:
    def __reduce__(self):
        return (_refuse_to_load, ())


@dataclass(frozen=True)
class Publish:
    """Publish `count` numbered events on `topic`, stamped with the host's monotonic clock."""

    topic: str
    count: int


class CounterState(dict):
    pass


class Counter(Actor):
    """Every change is written through before the answer; activation rebuilds from the file."""

    def __init__(self, actor_id, context, path):
        super().__init__(actor_id, context.clock)
        self.events = context.events
        self.path = path
        self.count = 0
        self.deadline: datetime | None = None
        self.expired_at: datetime | None = None

    def _db(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=30)
        connection.execute(
            "CREATE TABLE IF NOT EXISTS counters (id TEXT PRIMARY KEY, count INT, deadline TEXT, expired_at TEXT,"
            " activations INT)"
        )
        return connection

    def _save(self, activations_delta: int = 0) -> None:
        with self._db() as db:
            db.execute(
                "INSERT INTO counters VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET count=excluded.count,"
                " deadline=excluded.deadline, expired_at=excluded.expired_at,"
                " activations=counters.activations + ?",
                (
                    self.id,
                    self.count,
                    self.deadline and self.deadline.isoformat(),
                    self.expired_at and self.expired_at.isoformat(),
                    activations_delta,
                    activations_delta,
                ),
            )

    async def on_activate(self):
        with self._db() as db:
            row = db.execute("SELECT count, deadline, expired_at FROM counters WHERE id = ?", (self.id,)).fetchone()
        if row:
            self.count = row[0]
            self.deadline = row[1] and datetime.fromisoformat(row[1])
            self.expired_at = row[2] and datetime.fromisoformat(row[2])
        self._save(activations_delta=1)
        if self.deadline and not self.expired_at:
            self.timers.at("deadline", self.deadline, Expire())

    async def handle(self, message):
        match message:
            case Increment():
                self.count += 1
                self._save()
                return self.count
            case Get():
                with self._db() as db:
                    activations = db.execute("SELECT activations FROM counters WHERE id = ?", (self.id,)).fetchone()[0]
                return {"count": self.count, "expired": self.expired_at is not None, "activations": activations}
            case SetDeadline(seconds):
                self.deadline = self.clock.now() + timedelta(seconds=seconds)
                self._save()
                self.timers.at("deadline", self.deadline, Expire())
                return self.deadline.isoformat()
            case Expire():
                self.expired_at = self.clock.now()
                self._save()
                return None
            case Sleep(seconds):
                await asyncio.sleep(seconds)
                return seconds
            case Pid():
                return os.getpid()
            case Boom():
                raise KeyError("boom")
            case Unsendable():
                return threading.Lock()
            case Unreadable():
                return UnreadableAnswer()
            case Publish(topic, count):
                for index in range(count):
                    self.events.publish(topic, {"from": self.id, "seq": index, "at": time.time()})
                return count
        raise TypeError(f"unknown message {message!r}")


def factories(config: dict, runtime) -> dict:
    return {"counter": lambda actor_id, context: Counter(actor_id, context, config["path"])}

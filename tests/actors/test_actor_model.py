"""Actor semantics as plain objects with the fake clock: ordering, one-at-a-time execution,
lifecycle, timers (fire, cancel, re-arm) and a raising handler."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

import pytest

from actors.actor import Actor
from actors.clock import FakeClock, settle


@dataclass(frozen=True)
class Append:
    value: int
    pause: float = 0.0


@dataclass(frozen=True)
class Fail:
    reason: str


@dataclass(frozen=True)
class Tick:
    name: str


class Recorder(Actor):
    """Appends values, slowly if asked, and notes when handlers overlap."""

    def __init__(self, actor_id, clock, stored=None):
        super().__init__(actor_id, clock)
        self.stored = stored if stored is not None else {}
        self.values: list[int] = []
        self.ticks: list[tuple[str, float]] = []
        self.running = 0
        self.max_running = 0
        self.activations = 0
        self.deactivations = 0

    async def on_activate(self):
        self.activations += 1
        self.values = list(self.stored.get("values", []))

    async def on_deactivate(self):
        self.deactivations += 1
        self.stored["values"] = list(self.values)

    async def handle(self, message):
        self.running += 1
        self.max_running = max(self.max_running, self.running)
        try:
            match message:
                case Append(value, pause):
                    if pause:
                        await asyncio.sleep(pause)
                    self.values.append(value)
                    return len(self.values)
                case Fail(reason):
                    raise ValueError(reason)
                case Tick(name):
                    self.ticks.append((name, self.clock.monotonic()))
                    return None
        finally:
            self.running -= 1


@pytest.fixture
def clock():
    return FakeClock()


async def test_messages_run_one_at_a_time_in_arrival_order(clock):
    actor = Recorder("r", clock)
    senders = [actor.ask(Append(index, pause=0.001 * (5 - index % 5))) for index in range(20)]
    answers = await asyncio.gather(*senders)
    assert actor.values == list(range(20))
    assert answers == list(range(1, 21))
    assert actor.max_running == 1


async def test_concurrent_senders_each_keep_their_order(clock):
    actor = Recorder("r", clock)

    async def sender(base: int):
        for step in range(10):
            await actor.ask(Append(base + step))
            await asyncio.sleep(0)

    await asyncio.gather(*(sender(base) for base in (100, 200, 300)))
    for base in (100, 200, 300):
        mine = [value for value in actor.values if base <= value < base + 100]
        assert mine == list(range(base, base + 10))
    assert actor.max_running == 1


async def test_raising_handler_answers_that_message_only(clock):
    actor = Recorder("r", clock)
    first = actor.ask(Append(1))
    failing = actor.ask(Fail("bad input"))
    after = actor.ask(Append(2))
    assert await first == 1
    with pytest.raises(ValueError, match="bad input"):
        await failing
    assert await after == 2
    assert actor.values == [1, 2] and actor.active


async def test_activation_before_first_message_and_deactivation_flushes(clock):
    stored = {"values": [7]}
    actor = Recorder("r", clock, stored)
    assert not actor.active
    assert await actor.ask(Append(8)) == 2
    assert actor.activations == 1
    actor.timers.every("tick", 5, Tick("t"))
    await actor.deactivate()
    assert not actor.active and actor.deactivations == 1
    assert stored == {"values": [7, 8]}
    assert len(actor.timers) == 0 and clock.pending == 0

    revived = Recorder("r", clock, stored)
    assert await revived.ask(Append(9)) == 3
    assert revived.values == [7, 8, 9]


async def test_deactivation_waits_for_messages_queued_before_it(clock):
    actor = Recorder("r", clock)
    pending = [actor.ask(Append(value, pause=0.001)) for value in range(3)]
    done = actor.deactivate()
    await asyncio.gather(*pending, done)
    assert actor.stored["values"] == [0, 1, 2]


async def test_one_shot_timer_fires_once_at_its_time(clock):
    actor = Recorder("r", clock)
    await actor.ask(Append(0))
    actor.timers.once("deadline", 10, Tick("deadline"))
    await clock.advance(9.9)
    assert actor.ticks == []
    await clock.advance(0.2)
    assert actor.ticks == [("deadline", 10.0)]
    await clock.advance(100)
    assert len(actor.ticks) == 1
    assert "deadline" not in actor.timers


async def test_repeating_timer_and_cancel(clock):
    actor = Recorder("r", clock)
    actor.timers.every("beat", 3, Tick("beat"))
    await clock.advance(10)
    assert [at for _, at in actor.ticks] == [3.0, 6.0, 9.0]
    actor.timers.cancel("beat")
    await clock.advance(10)
    assert len(actor.ticks) == 3


async def test_rearming_a_timer_replaces_it(clock):
    actor = Recorder("r", clock)
    actor.timers.once("t", 5, Tick("first"))
    await clock.advance(3)
    actor.timers.once("t", 5, Tick("second"))
    await clock.advance(10)
    assert actor.ticks == [("second", 8.0)]


async def test_durable_deadline_is_rearmed_from_wall_time(clock):
    deadline = clock.now() + timedelta(minutes=10)
    actor = Recorder("r", clock)
    actor.timers.at("end", deadline, Tick("end"))
    await clock.advance(240)
    await actor.deactivate()
    await clock.advance(600)
    assert actor.ticks == []

    revived = Recorder("r", clock)
    revived.timers.at("end", deadline, Tick("end"))
    await clock.advance(0)
    assert revived.ticks == [("end", 840.0)]

    later = Recorder("r", clock)
    later.timers.at("end", clock.now() + timedelta(seconds=30), Tick("end"))
    await clock.advance(29)
    assert later.ticks == []
    await clock.advance(1)
    assert later.ticks == [("end", 870.0)]


async def test_timer_messages_queue_behind_running_work(clock):
    actor = Recorder("r", clock)
    slow = actor.ask(Append(1, pause=0.01))
    actor.timers.once("t", 0, Tick("t"))
    await clock.advance(0)
    await slow
    await settle()
    assert actor.values == [1] and actor.ticks == [("t", 0.0)]
    assert actor.max_running == 1

"""The host-side hub of the Ray event transport, as a plain object."""

from __future__ import annotations

import asyncio

from actors.clock import FakeClock
from actors.events.ray_transport import EventHub

START = FakeClock().now().timestamp()


async def received(hub: EventHub, front_id: str) -> tuple[bool, list]:
    """A poll's answer without the publication times."""
    known, events = await hub.poll(front_id, 0)
    return known, [(topic, event) for topic, event, _ in events]


async def test_events_reach_subscribed_fronts_in_order():
    hub = EventHub(FakeClock())
    hub.update("front-a", ["room:1"], [])
    hub.update("front-b", ["room:1", "room:2"], [])
    for index in range(3):
        hub.publish("room:1", index)
    hub.publish("room:2", "x")
    hub.publish("room:3", "nobody")
    assert await received(hub, "front-a") == (True, [("room:1", 0), ("room:1", 1), ("room:1", 2)])
    assert await received(hub, "front-b") == (True, [("room:1", 0), ("room:1", 1), ("room:1", 2), ("room:2", "x")])
    assert await received(hub, "front-a") == (True, [])


async def test_events_carry_their_publication_time():
    clock = FakeClock()
    hub = EventHub(clock)
    hub.update("front", ["room:1"], [])
    hub.publish("room:1", "early")
    await clock.advance(2.5)
    hub.publish("room:1", "late")
    assert await hub.poll("front", 0) == (True, [("room:1", "early", START), ("room:1", "late", START + 2.5)])


async def test_a_waiting_poll_returns_as_soon_as_an_event_is_published():
    hub = EventHub(FakeClock())
    hub.update("front", ["room:1"], [])
    poll = asyncio.ensure_future(hub.poll("front", 30))
    await asyncio.sleep(0)
    hub.publish("room:1", "now")
    assert await asyncio.wait_for(poll, 1) == (True, [("room:1", "now", START)])


async def test_unknown_front_is_told_to_resubscribe_and_replace_resets_topics():
    hub = EventHub(FakeClock())
    assert await hub.poll("stranger", 0) == (False, [])
    hub.update("front", ["a", "b"], [])
    hub.update("front", ["c"], [], replace=True)
    assert hub.fronts() == {"front": ["c"]}
    hub.update("front", [], ["c"])
    hub.publish("c", 1)
    assert await hub.poll("front", 0) == (True, [])


async def test_per_front_queue_is_bounded():
    hub = EventHub(FakeClock(), limit=3)
    hub.update("front", ["t"], [])
    for index in range(10):
        hub.publish("t", index)
    assert hub.dropped == 7
    assert await received(hub, "front") == (True, [("t", 7), ("t", 8), ("t", 9)])


async def test_fronts_that_stop_polling_are_forgotten_after_the_lease():
    clock = FakeClock()
    hub = EventHub(clock, lease=60)
    hub.update("dead-front", ["t"], [])
    await clock.advance(30)
    hub.update("live-front", ["t"], [])
    await clock.advance(31)
    hub.update("live-front", ["u"], [])
    assert hub.fronts() == {"live-front": ["t", "u"]}
    hub.publish("t", 1)
    assert await hub.poll("dead-front", 0) == (False, [])

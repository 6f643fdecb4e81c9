"""Subscriptions and fan-out as plain objects: order, bounds, overflow policies, clean-up."""

from __future__ import annotations

import asyncio

import pytest

from actors.events.subscriptions import Fanout, Overflow, Subscription, SubscriptionClosed


@pytest.fixture
def watched():
    return {"first": [], "last": []}


@pytest.fixture
def fanout(watched):
    return Fanout(on_first=watched["first"].append, on_last=watched["last"].append)


def subscribe(fanout, topic="room:1", limit=10, overflow=Overflow.DROP_OLDEST) -> Subscription:
    subscription = Subscription(topic, limit, overflow, fanout)
    fanout.add(subscription)
    return subscription


async def test_every_subscriber_gets_every_event_in_order(fanout, watched):
    first, second = subscribe(fanout), subscribe(fanout)
    other = subscribe(fanout, topic="room:2")
    for index in range(5):
        fanout.dispatch("room:1", index)
    assert [await first.get() for _ in range(5)] == list(range(5))
    assert [await second.get() for _ in range(5)] == list(range(5))
    assert watched["first"] == ["room:1", "room:2"]
    other.close()
    assert watched["last"] == ["room:2"]


async def test_drop_oldest_keeps_memory_bounded_and_counts(fanout):
    slow = subscribe(fanout, limit=3)
    for index in range(10):
        fanout.dispatch("room:1", index)
    assert slow.dropped == 7 and fanout.dropped == 7
    assert [await slow.get() for _ in range(3)] == [7, 8, 9]


async def test_disconnect_policy_closes_the_slow_subscriber_only(fanout, watched):
    slow = subscribe(fanout, limit=2, overflow=Overflow.DISCONNECT)
    fast = subscribe(fanout, limit=100)
    for index in range(3):
        fanout.dispatch("room:1", index)
    assert slow.closed and fanout.disconnected == 1
    with pytest.raises(SubscriptionClosed, match="fell behind"):
        await slow.get()
    assert [await fast.get() for _ in range(3)] == [0, 1, 2]
    assert fanout.subscribers("room:1") == 1 and watched["last"] == []


async def test_waiting_reader_wakes_on_event_and_on_close(fanout, watched):
    subscription = subscribe(fanout)
    reader = asyncio.ensure_future(subscription.get())
    await asyncio.sleep(0)
    fanout.dispatch("room:1", "hello")
    assert await reader == "hello"
    collected = asyncio.ensure_future(_collect(subscription))
    await asyncio.sleep(0)
    fanout.dispatch("room:1", "last")
    await asyncio.sleep(0)
    subscription.close()
    assert await collected == ["last"]
    assert watched["last"] == ["room:1"] and fanout.topics == set()


async def _collect(subscription):
    return [event async for event in subscription]

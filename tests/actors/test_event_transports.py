"""Both event transports for real: Redis pub/sub, and long polls over Ray (with Redis too)."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from actors.events.redis_transport import RedisEventBus, RedisEventSink, channel
from actors.hosting.runtime import event_bus
from tests.actors.kinds import Increment, Publish


async def receive(subscription, count: int, within: float = 10.0) -> list:
    async def take():
        return [await subscription.get() for _ in range(count)]

    return await asyncio.wait_for(take(), within)


async def wait_for_subscribers(url: str, name: str, count: int) -> None:
    client = aioredis.Redis.from_url(url)
    try:
        for _ in range(200):
            if dict(await client.pubsub_numsub(name)).get(name.encode(), 0) == count:
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"{name} never had {count} subscribers")
    finally:
        await client.aclose()


async def test_redis_two_fronts_each_receive_every_event_in_order(redis_url):
    prefix = "t-redis-"
    fronts = [RedisEventBus(redis_url, prefix), RedisEventBus(redis_url, prefix)]
    for bus in fronts:
        await bus.start()
    subscriptions = [await bus.subscribe("room:7") for bus in fronts]
    await wait_for_subscribers(redis_url, channel(prefix, "room:7"), 2)
    sink = RedisEventSink(redis_url, prefix)
    for index in range(200):
        sink.publish("room:7", {"seq": index})
    for subscription in subscriptions:
        assert [event["seq"] for event in await receive(subscription, 200)] == list(range(200))
    for subscription in subscriptions:
        subscription.close()
    await wait_for_subscribers(redis_url, channel(prefix, "room:7"), 0)
    for bus in fronts:
        await bus.close()
    await sink.close()


async def test_ray_transport_two_fronts_receive_every_event_in_order(runtime_factory):
    client, config = runtime_factory()
    await client.ask("counter:pub", Increment())
    fronts = [event_bus(config, client), event_bus(config, client)]
    for bus in fronts:
        await bus.start()
    subscriptions = [await bus.subscribe("counter:pub") for bus in fronts]
    host = client.host_of("counter:pub")
    assert await client.ask("counter:pub", Publish("counter:pub", 300)) == 300
    for subscription in subscriptions:
        events = await receive(subscription, 300)
        assert [event["seq"] for event in events] == list(range(300))
    subscriptions[0].close()
    for _ in range(100):
        topics = await client.host_handle(host).event_fronts.remote()
        if sorted(topics.values()) == [[], ["counter:pub"]]:
            break
        await asyncio.sleep(0.05)
    assert sorted(topics.values()) == [[], ["counter:pub"]]
    for bus in fronts:
        await bus.close()


async def test_hosts_publish_to_redis_when_it_is_configured(runtime_factory, redis_url):
    client, config = runtime_factory(redis_url=redis_url)
    bus = event_bus(config, client)
    await bus.start()
    subscription = await bus.subscribe("room:5")
    await wait_for_subscribers(redis_url, channel(config.prefix, "room:5"), 1)
    await client.ask("counter:r", Publish("room:5", 50))
    assert [event["seq"] for event in await receive(subscription, 50)] == list(range(50))
    await bus.close()

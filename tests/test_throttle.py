"""The failure throttle as a plain object over a fake clock, on both stores (Redis is real)."""

from __future__ import annotations

import secrets

import pytest
from redis.asyncio import Redis

from actors.clock import FakeClock
from api.core.throttle import Backoff, Key, Throttle, Throttled
from api.core.throttle_stores import MemoryFailureStore, RedisFailureStore

BACKOFF = Backoff(window_seconds=60, lockout_seconds=30, lockout_max_seconds=100, strike_memory_seconds=600)


@pytest.fixture(params=["memory", "redis"])
async def store(request):
    if request.param == "memory":
        yield MemoryFailureStore()
        return
    redis = Redis.from_url(request.getfixturevalue("redis_url"))
    yield RedisFailureStore(redis, prefix=f"test-throttle-{secrets.token_hex(4)}:")
    await redis.aclose()


async def wait_of(throttle: Throttle, keys: list[Key]) -> float:
    try:
        await throttle.check(keys)
    except Throttled as throttled:
        return throttled.retry_after
    return 0.0


async def test_failures_within_the_window_lock_out_then_back_off_exponentially(store):
    clock = FakeClock()
    throttle = Throttle(store, clock, BACKOFF)
    account = [Key("login:acct:a@example.com", 3, forget_on_success=True)]
    for expected in (30, 60, 100):  # doubling, capped at the maximum
        for _ in range(3):
            assert await wait_of(throttle, account) == 0
            await throttle.failed(account)
        assert await wait_of(throttle, account) == pytest.approx(expected)
        await clock.advance(expected - 1)
        assert await wait_of(throttle, account) == pytest.approx(1)
        await clock.advance(1)
        assert await wait_of(throttle, account) == 0


async def test_failures_outside_the_window_are_not_counted(store):
    clock = FakeClock()
    throttle = Throttle(store, clock, BACKOFF)
    ip = [Key("login:ip:192.0.2.1", 3)]
    for _ in range(5):
        await throttle.failed(ip)
        await clock.advance(31)  # never three within 60 s
    assert await wait_of(throttle, ip) == 0


async def test_a_success_forgets_the_account_but_not_the_client_ip(store):
    clock = FakeClock()
    throttle = Throttle(store, clock, BACKOFF)
    ip, account = Key("login:ip:192.0.2.2", 3), Key("login:acct:b@example.com", 3, forget_on_success=True)
    await throttle.failed([ip, account])
    await throttle.failed([ip, account])
    await throttle.succeeded([ip, account])
    await throttle.failed([ip, account])
    assert await wait_of(throttle, [account]) == 0
    assert await wait_of(throttle, [ip]) == pytest.approx(30)


async def test_strikes_are_forgotten_after_the_strike_memory(store):
    clock = FakeClock()
    throttle = Throttle(store, clock, BACKOFF)
    key = [Key("join:acct:7", 1)]
    await throttle.failed(key)
    assert await wait_of(throttle, key) == pytest.approx(30)
    await clock.advance(30 + 600)
    await throttle.failed(key)
    assert await wait_of(throttle, key) == pytest.approx(30)


async def test_memory_store_frees_expired_keys():
    store = MemoryFailureStore()
    clock = FakeClock()
    throttle = Throttle(store, clock, BACKOFF)
    for n in range(3000):
        await throttle.failed([Key(f"register:ip:10.0.{n // 256}.{n % 256}", 5)])
        await clock.advance(1)
    assert len(store._failures) <= 1024 + 60


async def test_two_fronts_on_one_redis_share_the_counters(redis_url):
    clock = FakeClock()
    prefix = f"test-throttle-{secrets.token_hex(4)}:"
    first, second = Redis.from_url(redis_url), Redis.from_url(redis_url)
    try:
        one = Throttle(RedisFailureStore(first, prefix), clock, BACKOFF)
        other = Throttle(RedisFailureStore(second, prefix), clock, BACKOFF)
        key = [Key("login:ip:192.0.2.3", 4)]
        for throttle in (one, other, one, other):
            await throttle.failed(key)
        assert await wait_of(one, key) == await wait_of(other, key) == pytest.approx(30)
    finally:
        await first.aclose()
        await second.aclose()

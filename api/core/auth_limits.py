"""The throttled actions of the front (login, register, refresh, room join): which counters each
one counts, per client IP and per account, with the limits of the settings; a lock-out is a 429."""

from __future__ import annotations

import math

from redis.asyncio import Redis

from actors.clock import RealClock
from api.core.errors import ApiError
from api.core.throttle import Backoff, Key, Throttle, Throttled
from api.core.throttle_stores import MemoryFailureStore, RedisFailureStore
from api.settings import Settings


class AuthLimits:
    def __init__(self, settings: Settings, throttle: Throttle) -> None:
        self.settings = settings
        self.throttle = throttle

    @classmethod
    def start(cls, settings: Settings, redis: Redis | None) -> AuthLimits:
        """Counters in Redis when there is one (shared by every front), else in this process."""
        store = RedisFailureStore(redis) if redis is not None else MemoryFailureStore()
        backoff = Backoff(
            window_seconds=settings.auth_failure_window_seconds,
            lockout_seconds=settings.auth_lockout_seconds,
            lockout_max_seconds=settings.auth_lockout_max_seconds,
            strike_memory_seconds=settings.auth_strike_memory_seconds,
        )
        return cls(settings, Throttle(store, RealClock(), backoff))

    def login(self, ip: str, email: str) -> list[Key]:
        return [
            Key(f"login:ip:{ip}", self.settings.login_failures_per_ip),
            Key(f"login:account:{email}", self.settings.login_failures_per_account, forget_on_success=True),
        ]

    def register(self, ip: str, email: str) -> list[Key]:
        """Every registration attempt counts, successful or not: a flood is made of successes."""
        return [
            Key(f"register:ip:{ip}", self.settings.register_attempts_per_ip),
            Key(f"register:email:{email}", self.settings.register_attempts_per_email),
        ]

    def refresh_failures(self, ip: str) -> list[Key]:
        return [Key(f"refresh:ip:{ip}", self.settings.refresh_failures_per_ip)]

    def refreshes(self, user_id: int) -> list[Key]:
        """Every refresh of one account counts: a stolen refresh token must not rotate in a loop."""
        return [Key(f"refresh:account:{user_id}", self.settings.refreshes_per_account)]

    def room_join(self, ip: str, user_id: int) -> list[Key]:
        return [
            Key(f"join:ip:{ip}", self.settings.room_join_failures_per_ip),
            Key(f"join:account:{user_id}", self.settings.room_join_failures_per_account, forget_on_success=True),
        ]

    async def check(self, keys: list[Key]) -> None:
        """429 with `Retry-After` (whole seconds, rounded up) while any of `keys` is locked out."""
        try:
            await self.throttle.check(keys)
        except Throttled as throttled:
            retry_after = max(1, math.ceil(throttled.retry_after))
            raise ApiError(
                429, f"Too many attempts; retry in {retry_after} s", {"Retry-After": str(retry_after)}
            ) from None

    async def failed(self, keys: list[Key]) -> None:
        await self.throttle.failed(keys)

    async def succeeded(self, keys: list[Key]) -> None:
        await self.throttle.succeeded(keys)


def client_ip(request) -> str:
    """The peer uvicorn reports: the socket's address, or X-Forwarded-For's when the peer is one
    of `--forwarded-allow-ips` (uvicorn's ProxyHeadersMiddleware decides, not this server)."""
    return request.client.host if request.client else "unknown"

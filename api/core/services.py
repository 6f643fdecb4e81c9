"""What a front process holds for its lifetime: settings, database, token and password services."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from actors.hosting.runtime import ActorRuntime
from api.core.auth_limits import AuthLimits
from api.core.live_sessions import LiveSessions
from api.core.security import Passwords, TokenService
from api.settings import Settings, runtime_config
from persistence.database import create_engine, session_factory


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    tokens: TokenService
    passwords: Passwords
    redis: Redis | None
    auth_limits: AuthLimits
    live_sessions: LiveSessions
    actors: ActorRuntime | None = field(default=None)
    stomp: Any = field(default=None)
    """The StompApplication `/ws` serves (api.contest.feeds), made on first use."""
    collab: Any = field(default=None)
    """The CollabApplication `/collab/ws` and `/collab/yjs` serve (api.collab.documents), made on first use."""
    room_ids: Any = field(default=None)
    """The ids this front hands to the rooms it creates (api.contest.rooms.RoomIds), made on first use."""
    judge_workers: Any = field(default=None)
    """This front's way to the judge workers, for `/languages` (api.judging.languages), made on first use."""

    @classmethod
    def start(cls, settings: Settings) -> Services:
        engine = create_engine(settings.database, settings.db_pool_size)
        redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
        sessions = session_factory(engine)
        tokens = TokenService(settings.signing_key, settings.access_token_ttl_seconds)
        return cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            tokens=tokens,
            passwords=Passwords(settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism),
            redis=redis,
            auth_limits=AuthLimits.start(settings, redis),
            live_sessions=LiveSessions(tokens, sessions, settings.session_cache_seconds),
        )

    async def start_actors(self) -> None:
        """Join or start Ray and reach the directory (seconds the first time in a process)."""
        if self.settings.actors_enabled:
            self.actors = await ActorRuntime.start(self.settings.ray_address, runtime_config(self.settings))

    async def close(self) -> None:
        await self.live_sessions.close()
        if self.actors is not None:
            await self.actors.close()
        if self.redis is not None:
            await self.redis.aclose()
        await self.engine.dispose()

"""Access tokens that die at logout: a signed-in token names its login (`sid`, the refresh-token
family), and every request and socket handshake asks whether that login is still alive.

The answer for a live login is kept `SESSION_CACHE_SECONDS` in this process, so a busy client
costs one indexed read per interval, not per request. Logout drops the login from the cache of
the front that served it (dead there at once); another front may accept the token until its
cached answer expires (at most `SESSION_CACHE_SECONDS`). Dead logins are never cached.
"""

from __future__ import annotations

import time

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.core.security import Claims, InvalidToken, TokenService
from persistence.repositories import refresh_tokens

CACHE_SWEEP_SIZE = 10_000
"""Entries beyond which an insert first drops the expired ones."""


class LiveSessions:
    def __init__(self, tokens: TokenService, sessions: async_sessionmaker[AsyncSession], cache_seconds: float) -> None:
        self.tokens = tokens
        self.sessions = sessions
        self.cache_seconds = cache_seconds
        self._alive_until: dict[str, float] = {}

    async def claims(self, token: str) -> Claims:
        """The token's claims, if it is ours, unexpired and its login not ended; else InvalidToken."""
        claims = self.tokens.verify(token)
        if claims.session_id is not None and not await self.alive(claims.session_id):
            raise InvalidToken("the login this token belongs to has ended")
        return claims

    async def alive(self, session_id: str) -> bool:
        now = time.monotonic()
        if self._alive_until.get(session_id, 0.0) > now:
            return True
        async with self.sessions() as session:
            alive = await refresh_tokens.family_alive(session, session_id)
        if alive and self.cache_seconds > 0:
            if len(self._alive_until) >= CACHE_SWEEP_SIZE:
                self._alive_until = {sid: until for sid, until in self._alive_until.items() if until > now}
            self._alive_until[session_id] = now + self.cache_seconds
        return alive

    def ended(self, session_id: str) -> None:
        """Forget a login this front just ended, so its tokens die here at once."""
        self._alive_until.pop(session_id, None)

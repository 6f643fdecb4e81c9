"""Access tokens that die at logout: a signed-in token names its login (`sid`, the refresh-token
family), and every request and socket handshake asks whether that login is still alive.

The answer for a live login is kept `SESSION_CACHE_SECONDS` in this process, so a busy client
costs one indexed read per interval, not per request. Logout drops the login from the cache of
the front that served it (dead there at once); another front may accept the token until its
cached answer expires (at most `SESSION_CACHE_SECONDS`). Dead logins are never cached.

A socket or stream opened with a token stays open after its handshake, so it watches its login
(`Login.on_end`): the front that ends a login closes its sockets at once, and every front asks
the database every `SESSION_CACHE_SECONDS` (one query for all the logins its sockets hold)
which of them ended elsewhere (another front's logout, a password change, refresh reuse).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.core.security import Claims, InvalidToken, TokenService
from persistence.repositories import refresh_tokens

CACHE_SWEEP_SIZE = 10_000
"""Entries beyond which an insert first drops the expired ones."""

LOGIN_ENDED = "your login has ended; log in again"
"""What a socket or stream is told when it closes because its login ended."""

MIN_WATCH_SECONDS = 1.0
"""The shortest interval between two checks of the logins open sockets hold."""

log = logging.getLogger(__name__)


def _never_watched() -> None:
    return None


@dataclass(frozen=True, slots=True)
class Login:
    """A signed-in caller's login, as a socket holds it to hear when it ends."""

    session_id: str
    sessions: LiveSessions

    def on_end(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Calls `callback` (once, in the event loop) when the login ends; returns what stops that."""
        return self.sessions.watch(self.session_id, callback)


class LiveSessions:
    def __init__(self, tokens: TokenService, sessions: async_sessionmaker[AsyncSession], cache_seconds: float) -> None:
        self.tokens = tokens
        self.sessions = sessions
        self.cache_seconds = cache_seconds
        self._alive_until: dict[str, float] = {}
        self._watchers: dict[str, dict[int, Callable[[], None]]] = {}
        self._next_watch = 0
        self._checker: asyncio.Task | None = None

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

    def login(self, claims: Claims) -> Login | None:
        """What a socket opened with these claims watches; None for a token without a login."""
        return Login(claims.session_id, self) if claims.session_id is not None else None

    def on_login_end(self, claims: Claims, callback: Callable[[], None]) -> Callable[[], None]:
        """`Login.on_end` for the claims' login; a token without one never ends this way."""
        login = self.login(claims)
        return login.on_end(callback) if login is not None else _never_watched

    def ended(self, session_id: str) -> None:
        """Forget a login this front just ended, so its tokens die here at once and the sockets
        opened with them close."""
        self._alive_until.pop(session_id, None)
        for callback in self._watchers.pop(session_id, {}).values():
            try:
                callback()
            except Exception:
                log.exception("closing a socket whose login ended failed")

    def watch(self, session_id: str, callback: Callable[[], None]) -> Callable[[], None]:
        watchers = self._watchers.setdefault(session_id, {})
        key = self._next_watch
        self._next_watch += 1
        watchers[key] = callback
        if self._checker is None or self._checker.done():
            self._checker = asyncio.get_running_loop().create_task(self._check_watched())

        def unwatch() -> None:
            held = self._watchers.get(session_id)
            if held is not None and held.pop(key, None) is not None and not held:
                del self._watchers[session_id]

        return unwatch

    @property
    def watched(self) -> int:
        """How many sockets and streams watch a login on this front."""
        return sum(len(watchers) for watchers in self._watchers.values())

    async def _check_watched(self) -> None:
        """Until no socket watches a login: every interval, end here the logins ended elsewhere."""
        interval = max(self.cache_seconds, MIN_WATCH_SECONDS)
        while self._watchers:
            await asyncio.sleep(interval)
            session_ids = list(self._watchers)
            try:
                async with self.sessions() as session:
                    alive = await refresh_tokens.families_alive(session, session_ids)
            except Exception:
                log.warning("checking the logins of open sockets failed; again in %.0f s", interval, exc_info=True)
                continue
            for session_id in session_ids:
                if session_id not in alive:
                    self.ended(session_id)

    async def close(self) -> None:
        if self._checker is not None:
            self._checker.cancel()
            await asyncio.gather(self._checker, return_exceptions=True)

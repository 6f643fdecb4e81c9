"""Passwords (Argon2) and access tokens (HS256 JWT, algorithm pinned)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ALGORITHM = "HS256"


class InvalidToken(Exception):
    """The token is missing, malformed, expired, or not signed by us with HS256."""


@dataclass(frozen=True)
class Claims:
    user_id: int
    role: str
    session_id: str | None = None
    """The login (refresh-token family) a signed-in token belongs to; None for tokens minted
    without one (dev login, tests), which live until they expire."""

    @property
    def is_admin(self) -> bool:
        return self.role == "ADMIN"


class TokenService:
    def __init__(self, secret: str, access_ttl_seconds: int) -> None:
        self._secret = secret
        self.access_ttl = timedelta(seconds=access_ttl_seconds)

    def issue(self, user_id: int, role: str, ttl: timedelta | None = None, session_id: str | None = None) -> str:
        now = datetime.now(UTC)
        payload = {"sub": str(user_id), "role": role, "iat": now, "exp": now + (ttl or self.access_ttl)}
        if session_id is not None:
            payload["sid"] = session_id
        return jwt.encode(payload, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> Claims:
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                options={"require": ["sub", "exp", "iat"]},
            )
            user_id = int(payload["sub"])
        except (jwt.PyJWTError, ValueError, TypeError) as error:
            raise InvalidToken(str(error)) from error
        role = payload.get("role", "USER")
        if role not in ("USER", "ADMIN"):
            raise InvalidToken("unknown role")
        session_id = payload.get("sid")
        if session_id is not None and not isinstance(session_id, str):
            raise InvalidToken("malformed sid")
        return Claims(user_id=user_id, role=role, session_id=session_id)


class Passwords:
    def __init__(self, time_cost: int, memory_kib: int, parallelism: int) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    @cached_property
    def _dummy_hash(self) -> str:
        """A hash of nothing anyone knows, with this hasher's parameters."""
        return self._hasher.hash(secrets.token_urlsafe(32))

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether `password` matches; an account without a hash (unknown email, no password set)
        costs a full verification too, so the answer's timing does not tell which emails exist."""
        try:
            return self._hasher.verify(password_hash or self._dummy_hash, password) and bool(password_hash)
        except (VerificationError, InvalidHashError):
            return False

"""Refresh tokens: stored by SHA-256 digest, rotated on use, revoked by family on reuse."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import RefreshToken


class RefreshRejected(Exception):
    """Unknown, expired, revoked, or reused (which revokes the whole family)."""


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_refresh_secret() -> tuple[str, str]:
    """A fresh refresh token and the digest under which it is stored."""
    token = secrets.token_urlsafe(32)
    return token, digest(token)


def new_family_id() -> str:
    """A new login's id: its refresh tokens' family, and the `sid` of its access tokens."""
    return str(uuid.uuid4())


async def issue(session: AsyncSession, user_id: int, ttl: timedelta, family_id: str | None = None) -> str:
    token, token_hash = new_refresh_secret()
    session.add(
        RefreshToken(
            user_id=user_id,
            family_id=family_id or new_family_id(),
            token_hash=token_hash,
            expires_at=datetime.now(UTC) + ttl,
        )
    )
    await session.commit()
    return token


async def owner(session: AsyncSession, token: str) -> int | None:
    """The user a stored refresh token belongs to (spent or not), or None."""
    user_id = await session.scalar(select(RefreshToken.user_id).where(RefreshToken.token_hash == digest(token)))
    await session.rollback()
    return user_id


def _unspent_login():
    """A row that keeps its login alive: neither revoked (logout, reuse, password change) nor expired."""
    return (RefreshToken.revoked_at.is_(None), RefreshToken.expires_at > datetime.now(UTC))


async def family_alive(session: AsyncSession, family_id: str) -> bool:
    """Whether the login `family_id` is alive."""
    alive = await session.scalar(
        select(RefreshToken.id).where(RefreshToken.family_id == family_id, *_unspent_login()).limit(1)
    )
    return alive is not None


FAMILIES_PER_QUERY = 500


async def families_alive(session: AsyncSession, family_ids: list[str]) -> set[str]:
    """Which of the logins `family_ids` are alive (`family_alive` for many, a query per 500)."""
    alive: set[str] = set()
    for start in range(0, len(family_ids), FAMILIES_PER_QUERY):
        chunk = family_ids[start : start + FAMILIES_PER_QUERY]
        rows = await session.scalars(
            select(RefreshToken.family_id).where(RefreshToken.family_id.in_(chunk), *_unspent_login()).distinct()
        )
        alive.update(rows)
    return alive


async def rotate(
    session: AsyncSession, token: str, ttl: timedelta, reuse_grace: timedelta = timedelta(0)
) -> tuple[int, str, str | None]:
    """Spend `token` and return (user id, family id, its successor in the same family).

    A token rotated less than `reuse_grace` ago, its family alive, is a concurrent duplicate
    (two requests of one browser refreshing at once): (user id, family id, None), no successor, and
    nothing revoked. Later reuse revokes the family."""
    now = datetime.now(UTC)
    token_hash = digest(token)
    spent = await session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.token_hash == token_hash,
            RefreshToken.rotated_at.is_(None),
            RefreshToken.revoked_at.is_(None),
            RefreshToken.expires_at > now,
        )
        .values(rotated_at=now)
        .returning(RefreshToken.user_id, RefreshToken.family_id)
    )
    row = spent.first()
    if row is None:
        await session.rollback()
        stored = await session.scalar(select(RefreshToken).where(RefreshToken.token_hash == token_hash))
        if (
            stored is not None
            and stored.rotated_at is not None
            and stored.revoked_at is None
            and stored.expires_at > now
            and now - stored.rotated_at < reuse_grace
        ):
            return stored.user_id, stored.family_id, None
        if stored is not None and stored.rotated_at is not None:
            await revoke_family(session, stored.family_id)
            raise RefreshRejected("Refresh token reuse detected; all sessions of this login were revoked")
        raise RefreshRejected("Invalid or expired refresh token")
    user_id, family_id = row
    successor = await issue(session, user_id, ttl, family_id)
    return user_id, family_id, successor


async def revoke_family(session: AsyncSession, family_id: str) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    await session.commit()


async def revoke_token_family(session: AsyncSession, token: str) -> str | None:
    """Revoke the family of `token`; its id, or None for an unknown token."""
    family_id = await session.scalar(select(RefreshToken.family_id).where(RefreshToken.token_hash == digest(token)))
    if family_id is not None:
        await revoke_family(session, family_id)
    return family_id


async def revoke_all(session: AsyncSession, user_id: int) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    await session.commit()

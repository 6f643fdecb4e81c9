"""Users: creation with database-enforced uniqueness, lookups and updates."""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import User


class DuplicateUser(Exception):
    def __init__(self, field: str) -> None:
        super().__init__(f"{field} already exists")
        self.field = field


def normalize_email(email: str) -> str:
    return email.strip().lower()


async def get(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == normalize_email(email)))


async def by_username(session: AsyncSession, username: str) -> User | None:
    return await session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))


async def _taken_field(session: AsyncSession, username: str | None, email: str | None) -> str | None:
    """Which of these values another user already has ("Email", "Username"), or None."""
    if email is not None and await by_email(session, email) is not None:
        return "Email"
    if username is not None and await by_username(session, username) is not None:
        return "Username"
    return None


async def create(
    session: AsyncSession,
    *,
    username: str,
    email: str,
    password_hash: str | None,
    role: str = "USER",
    provider: str = "LOCAL",
    email_verified: bool = False,
) -> User:
    """Insert a user; a duplicate username or email raises DuplicateUser, even under races."""
    taken = await _taken_field(session, username, email)
    if taken is not None:
        raise DuplicateUser(taken)
    user = User(
        username=username.strip(),
        email=normalize_email(email),
        password_hash=password_hash,
        role=role,
        provider=provider,
        email_verified=email_verified,
    )
    session.add(user)
    try:
        await session.commit()
    except IntegrityError as error:
        await session.rollback()
        raise DuplicateUser(await _taken_field(session, username, email) or "Username or email") from error
    return user


async def update(
    session: AsyncSession,
    user: User,
    *,
    username: str | None = None,
    email: str | None = None,
    password_hash: str | None = None,
    role: str | None = None,
) -> User:
    taken = await _taken_field(
        session,
        username if username and username.strip().lower() != user.username.lower() else None,
        email if email and normalize_email(email) != user.email else None,
    )
    if taken is not None:
        raise DuplicateUser(taken)
    if username:
        user.username = username.strip()
    if email and normalize_email(email) != user.email:
        user.email = normalize_email(email)
        user.email_verified = False
    if password_hash:
        user.password_hash = password_hash
    if role:
        user.role = role
    try:
        await session.commit()
    except IntegrityError as error:
        await session.rollback()
        raise DuplicateUser("Username or email") from error
    await session.refresh(user)
    return user


async def ensure_with_id(session: AsyncSession, user_id: int, username: str, email: str) -> User:
    """The user with this id, created with these names when absent (dev login mints tokens for bare ids).

    PostgreSQL's id sequence is moved past an explicitly chosen id so later sign-ups never collide.
    """
    user = await session.get(User, user_id)
    if user is not None:
        return user
    session.add(User(id=user_id, username=username, email=normalize_email(email), password_hash=None))
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        user = await session.get(User, user_id)
        if user is None:
            raise DuplicateUser("Username or email") from None
        return user
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT MAX(id) FROM users))"))
        await session.commit()
    return await session.get(User, user_id)

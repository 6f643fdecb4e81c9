"""Users who sign in through an OpenID provider: found by their verified email, else created without a password.

As seed 001 says: an existing user keeps their account and only their display name is refreshed;
a new user is stored with the provider's name and no password (they may set one later). But an
existing account whose email was never proved (registered with a password: registration proves
nothing) is not signed into: whoever registered it may not own the address. Its owner links it by
starting the sign-in while signed in to it (`linking_user_id`), which proves the email.
"""

from __future__ import annotations

import re
import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import User
from persistence.repositories import users

USERNAME_ATTEMPTS = 6
"""Usernames tried for a new user: the email's local part, then that with random suffixes."""
DISPLAY_NAME_MAX = User.__table__.c.display_name.type.length
USERNAME_BASE_MAX = 48


def username_from_email(email: str) -> str:
    """The email's local part, lowercased and kept to the characters and length usernames allow."""
    local = re.sub(r"[^A-Za-z0-9_.-]", "", users.normalize_email(email).split("@", 1)[0])[:USERNAME_BASE_MAX]
    return local if len(local) >= 3 else f"user-{local}"


class EmailNotProved(Exception):
    """The account with this email was not proved to belong to whoever owns the address."""


async def sign_in(
    session: AsyncSession, *, email: str, display_name: str | None, provider: str, linking_user_id: int | None = None
) -> User:
    """The user owning `email` (created if none does), with `display_name` stored when given.
    An existing account with an unproved email raises EmailNotProved, unless it is `linking_user_id`."""
    user = await users.by_email(session, email) or await _create(session, email, provider)
    if not user.email_verified:
        if user.id != linking_user_id:
            raise EmailNotProved(f"{email} belongs to an account whose email was never proved")
        user.email_verified = True
        await session.commit()
    name = display_name.strip()[:DISPLAY_NAME_MAX] if display_name else None
    if name and user.display_name != name:
        user.display_name = name
        await session.commit()
    return user


async def _create(session: AsyncSession, email: str, provider: str) -> User:
    """A new passwordless user; if another request created one for this email meanwhile, that one."""
    base = username_from_email(email)
    candidates = [base, *(f"{base}-{secrets.token_hex(3)}" for _ in range(USERNAME_ATTEMPTS - 1))]
    for username in candidates:
        try:
            return await users.create(
                session, username=username, email=email, password_hash=None, provider=provider, email_verified=True
            )
        except users.DuplicateUser as duplicate:
            if duplicate.field == "Email":
                existing = await users.by_email(session, email)
                if existing is not None:
                    return existing
    raise users.DuplicateUser("Username")

"""Collab sessions in the database: the reads fronts serve directly (a session's own writes go
through its actor's store, actors/stores/collab.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import CollabSession


async def active_session_of(session: AsyncSession, user_id: int) -> CollabSession | None:
    return await session.scalar(
        select(CollabSession)
        .where(
            CollabSession.status == "ACTIVE", or_(CollabSession.user1_id == user_id, CollabSession.user2_id == user_id)
        )
        .order_by(CollabSession.created_at.desc())
        .limit(1)
    )


async def expired_ids(session: AsyncSession, now: datetime) -> list[str]:
    rows = await session.scalars(
        select(CollabSession.id).where(CollabSession.status == "ACTIVE", CollabSession.expires_at < now)
    )
    return list(rows)

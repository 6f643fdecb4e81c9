"""Attempts: the code two collab participants wrote for a question."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import Attempt, CollabSession


async def collab_session(session: AsyncSession, collab_id: str) -> CollabSession | None:
    return await session.get(CollabSession, collab_id)


async def latest_session_of(
    session: AsyncSession, user_id: int, partner_id: int | None = None, question_id: int | None = None
) -> CollabSession | None:
    """The user's latest collab session, with `partner_id` when given, preferring one on `question_id`."""
    mine = or_(CollabSession.user1_id == user_id, CollabSession.user2_id == user_id)
    conditions = [mine]
    if partner_id is not None:
        conditions.append(or_(CollabSession.user1_id == partner_id, CollabSession.user2_id == partner_id))
    newest = (CollabSession.created_at.desc(),)
    if question_id is not None:
        newest = ((CollabSession.question_id == question_id).desc(), *newest)
    return await session.scalar(select(CollabSession).where(*conditions).order_by(*newest).limit(1))


async def create(session: AsyncSession, collab: CollabSession, question_id: int, content: str) -> Attempt:
    attempt = Attempt(
        collab_id=collab.id,
        question_id=question_id,
        user1_id=collab.user1_id,
        user2_id=collab.user2_id,
        language=collab.language,
        content=content,
    )
    session.add(attempt)
    await session.commit()
    return attempt


async def get(session: AsyncSession, attempt_id: int) -> Attempt | None:
    return await session.get(Attempt, attempt_id)


def _of_user(user_id: int):
    return or_(Attempt.user1_id == user_id, Attempt.user2_id == user_id)


async def of_user(session: AsyncSession, user_id: int) -> list[Attempt]:
    rows = await session.scalars(
        select(Attempt).where(_of_user(user_id)).order_by(Attempt.created_at.desc(), Attempt.id.desc())
    )
    return list(rows)


async def question_ids_of_user(session: AsyncSession, user_id: int) -> list[int]:
    rows = await session.scalars(
        select(Attempt.question_id).where(_of_user(user_id)).distinct().order_by(Attempt.question_id)
    )
    return list(rows)

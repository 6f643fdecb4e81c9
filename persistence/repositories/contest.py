"""Contest rooms in the database: the reads fronts serve directly, and room ids.

Everything a room writes goes through its actor's store (actors/stores/contest.py); a front
only reserves ids for the rooms it is about to create (a block at a time), then asks
`room:{id}` to create each.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import (
    ROOM_ID_BLOCK,
    ContestHistory,
    Participant,
    Question,
    Room,
    RoomIdBlock,
    RoomProblem,
    Submission,
)


async def reserve_room_ids(session: AsyncSession) -> range:
    """A block of room ids never handed out before (committed before this returns)."""
    block = RoomIdBlock()
    session.add(block)
    await session.commit()
    return range((block.id - 1) * ROOM_ID_BLOCK + 1, block.id * ROOM_ID_BLOCK + 1)


async def live_room_ids(session: AsyncSession) -> list[int]:
    return list(await session.scalars(select(Room.id).where(Room.status == "ACTIVE").order_by(Room.id)))


@dataclass(frozen=True)
class ContestStats:
    total_contests: int
    wins: int
    losses: int
    draws: int
    total_solved: int

    @property
    def win_rate(self) -> float:
        return round(100.0 * self.wins / self.total_contests, 2) if self.total_contests else 0.0


async def stats(session: AsyncSession, user_id: int) -> ContestStats:
    counts = dict(
        (
            await session.execute(
                select(ContestHistory.result, func.count())
                .where(ContestHistory.user_id == user_id)
                .group_by(ContestHistory.result)
            )
        ).all()
    )
    solved = await session.scalar(
        select(func.coalesce(func.sum(ContestHistory.solved), 0)).where(ContestHistory.user_id == user_id)
    )
    return ContestStats(
        total_contests=sum(counts.values()),
        wins=counts.get("WIN", 0),
        losses=counts.get("LOSS", 0),
        draws=counts.get("DRAW", 0),
        total_solved=int(solved or 0),
    )


async def recent_matches(session: AsyncSession, user_id: int, limit: int = 5) -> list[ContestHistory]:
    rows = await session.scalars(
        select(ContestHistory)
        .where(ContestHistory.user_id == user_id)
        .order_by(ContestHistory.timestamp.desc(), ContestHistory.id.desc())
        .limit(limit)
    )
    return list(rows)


async def is_participant(session: AsyncSession, room_id: int, user_id: int) -> bool:
    return bool(
        await session.scalar(select(exists().where(Participant.room_id == room_id, Participant.user_id == user_id)))
    )


async def room_problems(session: AsyncSession, room_id: int) -> list[Question]:
    rows = await session.scalars(
        select(Question)
        .join(RoomProblem, RoomProblem.question_id == Question.id)
        .where(RoomProblem.room_id == room_id)
        .order_by(RoomProblem.ordinal)
    )
    return list(rows)


async def submissions_of(session: AsyncSession, room_id: int, user_id: int) -> list[Submission]:
    rows = await session.scalars(
        select(Submission).where(Submission.room_id == room_id, Submission.user_id == user_id).order_by(Submission.id)
    )
    return list(rows)

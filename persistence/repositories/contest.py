"""Contest rooms in the database: the room actor's store, and the reads fronts serve directly.

Membership in a live room is a row in `room_memberships` keyed by user, so "a user in at
most one WAITING or ACTIVE room" holds across fronts and hosts: whoever inserts second
gets an IntegrityError.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.contest.errors import AlreadyInAnotherRoom
from actors.contest.records import HistoryEntry, RoomRecord, SubmissionRecord
from actors.contest.scoring import ProblemStanding
from judge.cases import TestCase as JudgeTest
from judge.verdicts import Status, Verdict
from persistence.database import Transactions
from persistence.models import (
    ContestHistory,
    Participant,
    ParticipantProblem,
    Question,
    Room,
    RoomMembership,
    RoomProblem,
    Submission,
    TestCase,
)


async def create_room(session: AsyncSession, host_user_id: int, password: str) -> Room:
    """A WAITING room with its host seated; AlreadyInAnotherRoom if the host holds a live room."""
    room = Room(host_user_id=host_user_id, password=password, status="WAITING")
    session.add(room)
    try:
        await session.flush()
        session.add(Participant(room_id=room.id, user_id=host_user_id, score=0))
        session.add(RoomMembership(user_id=host_user_id, room_id=room.id))
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise AlreadyInAnotherRoom() from None
    return room


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


class SqlRoomStore:
    """`actors.contest.store.RoomStore` over SQLAlchemy; one per host process.

    A submission and its verdict, the writes on the way from a submit to its leaderboard push,
    are single `Transactions`; the rest goes through ORM sessions.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], transactions: Transactions) -> None:
        self.sessions = sessions
        self.transactions = transactions

    async def load(self, room_id: int) -> RoomRecord | None:
        async with self.sessions() as session:
            room = await session.get(Room, room_id)
            if room is None:
                return None
            participants = await session.scalars(
                select(Participant.user_id).where(Participant.room_id == room_id).order_by(Participant.id)
            )
            problems = await session.scalars(
                select(RoomProblem.question_id).where(RoomProblem.room_id == room_id).order_by(RoomProblem.ordinal)
            )
            cells = await session.execute(
                select(ParticipantProblem.user_id, ParticipantProblem.question_id, ParticipantProblem.id).where(
                    ParticipantProblem.room_id == room_id
                )
            )
            submissions = await session.execute(
                select(
                    Submission.id,
                    Submission.user_id,
                    Submission.question_id,
                    Submission.language_id,
                    Submission.created_at,
                    Submission.status_id,
                    Submission.time_seconds,
                    Submission.memory_kb,
                    Submission.compile_output,
                    Submission.judged_at,
                )
                .where(Submission.room_id == room_id)
                .order_by(Submission.id)
            )
            return RoomRecord(
                id=room.id,
                host_user_id=room.host_user_id,
                password=room.password,
                status=room.status,
                created_at=room.created_at,
                start_time=room.start_time,
                end_time=room.end_time,
                duration_seconds=room.duration_seconds,
                deadline=room.deadline,
                participants=list(participants),
                problems=list(problems),
                problem_row_ids={(user, question): row for user, question, row in cells},
                submissions=[SubmissionRecord(*row[:5], Status(row[5]), *row[6:]) for row in submissions],
            )

    async def tests_of(self, question_id: int) -> list[JudgeTest]:
        """A question's test cases, in order, for the judge (never sent to clients)."""
        async with self.sessions() as session:
            rows = await session.execute(
                select(TestCase.input, TestCase.output)
                .where(TestCase.question_id == question_id)
                .order_by(TestCase.ordinal)
            )
            return [JudgeTest(given, expected) for given, expected in rows.all()]

    async def add_participant(self, room_id: int, user_id: int) -> None:
        async with self.sessions() as session:
            session.add(Participant(room_id=room_id, user_id=user_id, score=0))
            session.add(RoomMembership(user_id=user_id, room_id=room_id))
            try:
                await session.commit()
            except IntegrityError:
                raise AlreadyInAnotherRoom() from None

    async def pick_problems(self, count: int) -> list[int]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(Question.id)
                .where(Question.deleted_at.is_(None), exists().where(TestCase.question_id == Question.id))
                .order_by(func.random())
                .limit(count)
            )
            return list(rows)

    async def start(
        self,
        room_id: int,
        start_time: datetime,
        duration_seconds: int,
        deadline: datetime,
        problems: list[int],
        participants: list[int],
    ) -> dict[tuple[int, int], int]:
        async with self.sessions() as session:
            await session.execute(
                update(Room)
                .where(Room.id == room_id)
                .values(status="ACTIVE", start_time=start_time, duration_seconds=duration_seconds, deadline=deadline)
            )
            session.add_all(
                RoomProblem(room_id=room_id, question_id=question, ordinal=index)
                for index, question in enumerate(problems)
            )
            cells = {
                (user, question): ParticipantProblem(room_id=room_id, user_id=user, question_id=question)
                for user in participants
                for question in problems
            }
            session.add_all(cells.values())
            await session.flush()
            ids = {key: cell.id for key, cell in cells.items()}
            await session.commit()
            return ids

    async def add_submission(
        self, room_id: int, user_id: int, question_id: int, language_id: int, code: str, created_at: datetime
    ) -> int:
        statement = insert(Submission).values(
            room_id=room_id,
            user_id=user_id,
            question_id=question_id,
            language_id=language_id,
            code=code,
            status_id=int(Status.IN_QUEUE),
            status_description=Status.IN_QUEUE.description,
            created_at=created_at,
        )
        return await self.transactions.run(lambda connection: connection.execute(statement).inserted_primary_key[0])

    async def submission_code(self, submission_ids: list[int]) -> dict[int, str]:
        async with self.sessions() as session:
            rows = await session.execute(
                select(Submission.id, Submission.code).where(Submission.id.in_(submission_ids))
            )
            return dict(rows.all())

    async def record_verdict(
        self,
        room_id: int,
        submission_id: int,
        verdict: Verdict,
        judged_at: datetime,
        standing: ProblemStanding | None,
    ) -> bool:
        judged = (
            update(Submission)
            .where(
                Submission.id == submission_id,
                Submission.status_id.in_([int(Status.IN_QUEUE), int(Status.PROCESSING)]),
            )
            .values(
                status_id=int(verdict.status),
                status_description=verdict.status.description,
                time_seconds=verdict.time,
                memory_kb=verdict.memory,
                compile_output=verdict.compile_output,
                failed_test_index=verdict.failed_test,
                judged_at=judged_at,
            )
        )

        def record(connection: Connection) -> bool:
            if connection.execute(judged).rowcount == 0:
                return False  # already judged: nothing was written
            if standing is not None:
                connection.execute(
                    update(ParticipantProblem)
                    .where(
                        ParticipantProblem.room_id == room_id,
                        ParticipantProblem.user_id == standing.user_id,
                        ParticipantProblem.question_id == standing.question_id,
                    )
                    .values(
                        attempts=standing.attempts,
                        penalty=standing.penalty,
                        solved=standing.solved,
                        solved_at=standing.solved_at,
                    )
                )
            return True

        return await self.transactions.run(record)

    async def finish(self, room_id: int, end_time: datetime, results: list[HistoryEntry]) -> None:
        async with self.sessions() as session:
            finished = await session.execute(
                update(Room)
                .where(Room.id == room_id, Room.status == "ACTIVE")
                .values(status="FINISHED", end_time=end_time)
            )
            if finished.rowcount:
                session.add_all(
                    ContestHistory(
                        user_id=entry.user_id,
                        room_id=room_id,
                        solved=entry.solved,
                        penalty=entry.penalty,
                        result=entry.result,
                        timestamp=end_time,
                    )
                    for entry in results
                )
                for entry in results:
                    await session.execute(
                        update(Participant)
                        .where(Participant.room_id == room_id, Participant.user_id == entry.user_id)
                        .values(score=entry.solved)
                    )
            await session.execute(delete(RoomMembership).where(RoomMembership.room_id == room_id))
            await session.commit()

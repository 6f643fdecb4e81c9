"""The contest room's store: everything a room writes, and what it reads to rebuild itself.

Membership in a live room is a row in `room_memberships` keyed by user, so "a user in at
most one WAITING or ACTIVE room" holds across fronts and hosts: whoever inserts second
gets an IntegrityError, which the store turns into `AlreadyInAnotherRoom`.
"""

from __future__ import annotations

import time
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


class SqlRoomStore:
    """`actors.contest.store.RoomStore` over SQLAlchemy; one per host process.

    A room's creation, a submission and its verdict (the writes on the way from a submit to
    its leaderboard push) are single `Transactions`; the rest goes through ORM sessions. A
    question's tests are kept for `tests_ttl` seconds (the host's rooms share a few
    questions), so a test edited by an admin is judged against from then on at the latest.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        transactions: Transactions,
        tests_ttl: float = 30.0,
        tests_kept: int = 64,
    ) -> None:
        self.sessions = sessions
        self.transactions = transactions
        self.tests_ttl = tests_ttl
        self.tests_kept = tests_kept
        self._tests: dict[int, tuple[float, tuple[JudgeTest, ...]]] = {}

    async def create(self, room_id: int, host_user_id: int, password: str, created_at: datetime) -> RoomRecord:
        await self._insert_seat(
            insert(Room).values(
                id=room_id, host_user_id=host_user_id, password=password, status="WAITING", created_at=created_at
            ),
            insert(Participant).values(room_id=room_id, user_id=host_user_id, score=0),
            insert(RoomMembership).values(user_id=host_user_id, room_id=room_id),
        )
        return RoomRecord(
            id=room_id, host_user_id=host_user_id, password=password, created_at=created_at, participants=[host_user_id]
        )

    async def load(self, room_id: int) -> RoomRecord | None:
        """The room as one read transaction (one thread hop on SQLite): an activation waits on it."""
        room_columns = (
            Room.host_user_id, Room.password, Room.status, Room.created_at, Room.start_time, Room.end_time,
            Room.duration_seconds, Room.deadline,
        )  # fmt: skip
        reads = (
            select(Participant.user_id).where(Participant.room_id == room_id).order_by(Participant.id),
            select(RoomProblem.question_id).where(RoomProblem.room_id == room_id).order_by(RoomProblem.ordinal),
            select(ParticipantProblem.user_id, ParticipantProblem.question_id, ParticipantProblem.id).where(
                ParticipantProblem.room_id == room_id
            ),
            select(
                Submission.id, Submission.user_id, Submission.question_id, Submission.language_id,
                Submission.created_at, Submission.status_id, Submission.time_seconds, Submission.memory_kb,
                Submission.compile_output, Submission.judged_at,
            )
            .where(Submission.room_id == room_id)
            .order_by(Submission.id),
        )  # fmt: skip

        def read(connection: Connection) -> RoomRecord | None:
            room = connection.execute(select(*room_columns).where(Room.id == room_id)).one_or_none()
            if room is None:
                return None
            participants, problems, cells, submissions = (connection.execute(query).all() for query in reads)
            return RoomRecord(
                room_id, *room,
                participants=[user for (user,) in participants],
                problems=[question for (question,) in problems],
                problem_row_ids={(user, question): row for user, question, row in cells},
                submissions=[SubmissionRecord(*row[:5], Status(row[5]), *row[6:]) for row in submissions],
            )  # fmt: skip

        return await self.transactions.run(read)

    async def tests_of(self, question_id: int) -> tuple[JudgeTest, ...]:
        """A question's test cases, in order, for the judge (never sent to clients)."""
        now = time.monotonic()
        kept = self._tests.get(question_id)
        if kept is not None and kept[0] > now:
            return kept[1]
        async with self.sessions() as session:
            rows = await session.execute(
                select(TestCase.input, TestCase.output)
                .where(TestCase.question_id == question_id)
                .order_by(TestCase.ordinal)
            )
            tests = tuple(JudgeTest(given, expected) for given, expected in rows.all())
        self._tests.pop(question_id, None)
        self._tests[question_id] = (now + self.tests_ttl, tests)
        while len(self._tests) > self.tests_kept:
            del self._tests[next(iter(self._tests))]
        return tests

    async def add_participant(self, room_id: int, user_id: int) -> None:
        await self._insert_seat(
            insert(Participant).values(room_id=room_id, user_id=user_id, score=0),
            insert(RoomMembership).values(user_id=user_id, room_id=room_id),
        )

    async def _insert_seat(self, *statements) -> None:
        """Run `statements` in one transaction; AlreadyInAnotherRoom when a membership is taken."""

        def run(connection: Connection) -> None:
            for statement in statements:
                connection.execute(statement)

        try:
            await self.transactions.run(run)
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

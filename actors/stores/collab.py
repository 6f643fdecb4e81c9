"""The collab session's store: the one writer of collab sessions, their participants and snapshots."""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.collab.records import ParticipantRecord, SessionRecord
from actors.collab.session import SessionConflict
from persistence.models import CollabParticipant, CollabSession, CollabSnapshot


def as_record(row: CollabSession) -> SessionRecord:
    return SessionRecord(
        id=row.id,
        topic=row.topic,
        difficulty=row.difficulty,
        question_id=row.question_id,
        language=row.language,
        user1_id=row.user1_id,
        user2_id=row.user2_id,
        status=row.status,
        created_at=row.created_at,
        expires_at=row.expires_at,
        ended_at=row.ended_at,
        code=row.code,
        participants=[ParticipantRecord(p.user_id, p.joined_at, p.left_at) for p in row.participants],
    )


def _settle(waiting: list[asyncio.Future[None]], error: Exception | None) -> None:
    for written in waiting:
        if written.done():
            continue
        if error is None:
            written.set_result(None)
        else:
            written.set_exception(error)


class SqlCollabStore:
    """`actors.collab.session.CollabStore` over SQLAlchemy; one per host process.

    Snapshots are group-committed: those that arrive while a write is under way go to the
    database together in the next transaction, and each `save_snapshot` returns once the
    transaction holding its snapshot has committed (or raises its error). A host saving many
    changing documents every few seconds then pays for one transaction, not one per document.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self._snapshots: dict[str, tuple[bytes, str]] = {}
        self._waiting: list[asyncio.Future[None]] = []
        self._writer: asyncio.Task | None = None

    async def create(self, record: SessionRecord) -> None:
        """Store a new ACTIVE session (no participants yet); SessionConflict when its id is taken
        or its question does not exist."""
        row = CollabSession(
            id=record.id, topic=record.topic, difficulty=record.difficulty, question_id=record.question_id,
            language=record.language, user1_id=record.user1_id, user2_id=record.user2_id, status=record.status,
            created_at=record.created_at, expires_at=record.expires_at,
        )  # fmt: skip
        async with self.sessions() as session:
            session.add(row)
            try:
                await session.commit()
            except IntegrityError:
                raise SessionConflict() from None

    async def load(self, session_id: str) -> tuple[SessionRecord, bytes | None] | None:
        async with self.sessions() as session:
            row = await session.get(CollabSession, session_id)
            if row is None:
                return None
            snapshot = await session.scalar(
                select(CollabSnapshot.document)
                .where(CollabSnapshot.session_id == session_id)
                .order_by(CollabSnapshot.id.desc())
                .limit(1)
            )
            return as_record(row), snapshot

    async def save_snapshot(self, session_id: str, document: bytes, code: str) -> None:
        # A session's newer snapshot replaces its older one still waiting.
        self._snapshots[session_id] = (document, code)
        written = asyncio.get_running_loop().create_future()
        self._waiting.append(written)
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_snapshots())
        await written

    async def _write_snapshots(self) -> None:
        waiting: list[asyncio.Future[None]] = []
        try:
            while self._snapshots:
                snapshots, self._snapshots = self._snapshots, {}
                waiting, self._waiting = self._waiting, []
                rows = [{"session_id": sid, "document": doc, "code": code} for sid, (doc, code) in snapshots.items()]
                try:
                    async with self.sessions() as session:
                        await session.execute(delete(CollabSnapshot).where(CollabSnapshot.session_id.in_(snapshots)))
                        await session.execute(insert(CollabSnapshot), rows)
                        await session.commit()
                except Exception as error:
                    _settle(waiting, error)
                else:
                    _settle(waiting, None)
        finally:
            self._writer = None
            for written in waiting + self._waiting:
                written.cancel()  # only those still waiting: the writer itself was cancelled

    async def save_participants(self, session_id: str, participants: list[ParticipantRecord]) -> None:
        async with self.sessions() as session:
            await session.execute(delete(CollabParticipant).where(CollabParticipant.session_id == session_id))
            session.add_all(
                CollabParticipant(session_id=session_id, user_id=p.user_id, joined_at=p.joined_at, left_at=p.left_at)
                for p in participants
            )
            await session.commit()

    async def finish(self, session_id: str, status: str, ended_at: datetime, document: bytes, code: str) -> None:
        async with self.sessions() as session:
            await session.execute(
                update(CollabSession)
                .where(CollabSession.id == session_id)
                .values(status=status, ended_at=ended_at, code=code)
            )
            await session.execute(
                update(CollabParticipant)
                .where(CollabParticipant.session_id == session_id, CollabParticipant.left_at.is_(None))
                .values(left_at=ended_at)
            )
            await session.execute(delete(CollabSnapshot).where(CollabSnapshot.session_id == session_id))
            session.add(CollabSnapshot(session_id=session_id, document=document, code=code))
            await session.commit()

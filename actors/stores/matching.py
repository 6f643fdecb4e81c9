"""The match pool's store: judgeable questions, and the collab session a match makes (written
by the collab session's store, the one writer of sessions)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.collab.records import SessionRecord, session_json
from actors.matching.pool import JudgeableQuestion
from actors.stores.collab import SqlCollabStore
from judge import languages
from persistence.models import Question, TestCase


def editor_language(name: str) -> str:
    """The session's language, one the collab editor and `POST /run` know: `java` for Java (by
    its key, name or an alias), else `python`, as the PeerPrep collab service decides."""
    spec = languages.find(name)
    return "java" if spec is not None and spec.key == "java" else "python"


class SqlMatchStore:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], collab: SqlCollabStore, session_ttl_seconds: float
    ) -> None:
        self.sessions = sessions
        self.collab = collab
        self.session_ttl = timedelta(seconds=session_ttl_seconds)

    async def judgeable_questions(self) -> list[JudgeableQuestion]:
        async with self.sessions() as session:
            questions = await session.scalars(
                select(Question).where(
                    Question.deleted_at.is_(None), exists().where(TestCase.question_id == Question.id)
                )
            )
            return [
                JudgeableQuestion(q.id, q.difficulty, frozenset(topic.name.lower() for topic in q.topics))
                for q in questions
            ]

    async def create_session(
        self, user1: int, user2: int, topic: str, difficulty: str, language: str, question_id: int | None
    ) -> dict[str, Any]:
        now = datetime.now(UTC)
        record = SessionRecord(
            id=str(uuid.uuid4()), topic=topic, difficulty=difficulty, question_id=question_id,
            language=editor_language(language), user1_id=user1, user2_id=user2, created_at=now,
            expires_at=now + self.session_ttl,
        )  # fmt: skip
        await self.collab.create(record)
        return session_json(record)

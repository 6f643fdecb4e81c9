"""A collab session as plain data, and api.md's JSON for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from actors.clock import iso_utc


@dataclass
class ParticipantRecord:
    user_id: int
    joined_at: datetime
    left_at: datetime | None = None


@dataclass
class SessionRecord:
    id: str
    topic: str
    difficulty: str
    question_id: int | None
    language: str
    user1_id: int
    user2_id: int
    status: str = "ACTIVE"
    created_at: datetime | None = None
    expires_at: datetime | None = None
    ended_at: datetime | None = None
    code: str | None = None
    participants: list[ParticipantRecord] = field(default_factory=list)

    @property
    def user_ids(self) -> tuple[int, int]:
        return (self.user1_id, self.user2_id)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else iso_utc(moment)


def session_json(session: Any) -> dict[str, Any]:
    """api.md's session object, from a SessionRecord or the ORM row (same attribute names)."""
    return {
        "id": session.id,
        "topic": session.topic,
        "difficulty": session.difficulty,
        "questionId": session.question_id,
        "language": session.language,
        "user1ID": str(session.user1_id),
        "user2ID": str(session.user2_id),
        "status": session.status,
        "createdAt": _iso(session.created_at),
        "expiresAt": _iso(session.expires_at),
        "endedAt": _iso(session.ended_at),
        "participants": [
            {"userId": str(p.user_id), "joinedAt": _iso(p.joined_at), "leftAt": _iso(p.left_at)}
            for p in session.participants
        ],
        "code": session.code,
    }

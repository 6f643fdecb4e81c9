"""Request models of the collab API (PeerPrep collab-service), with the seed's examples."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from api.core.ids import MAX_ID, as_id

SESSION_ID = r"^[A-Za-z0-9_-]{1,36}$"
SessionId = Annotated[str, StringConstraints(pattern=SESSION_ID)]


class CreateSessionIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"topic": "Arrays", "difficulty": "Easy", "questionId": "42", "language": "python", "user1ID": "1",
                 "user2ID": "2", "expiresAt": "2026-11-23T14:15:22Z"}
            ]
        }
    )  # fmt: skip

    topic: str = Field(min_length=1, max_length=64)
    difficulty: str = Field(min_length=1, max_length=16)
    questionId: int | str
    language: Literal["java", "python"]
    id: Annotated[str, StringConstraints(pattern=SESSION_ID)] | None = None
    expiresAt: datetime | None = None
    user1ID: str = Field(max_length=32)
    user2ID: str = Field(max_length=32)

    @field_validator("questionId")
    @classmethod
    def _question_id(cls, value: int | str) -> int:
        found = as_id(str(value))
        if found is None:
            raise ValueError(f"must be a question id from 1 to {MAX_ID}")
        return found


class UsernameIn(BaseModel):
    username: str = Field(min_length=1, max_length=254)

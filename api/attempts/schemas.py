"""Request and response models of the attempts API (PeerPrep attempt-service)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_serializer

from api.core.ids import DbId
from api.users.schemas import iso


class AttemptIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "collabId": "d5ed2f3b-942c-4543-a0d3-a6f57f4bf2b4",
                    "questionId": 42,
                    "content": "function add(a, b) { return a + b; }",
                }
            ]
        },
    )

    collabId: Annotated[str, StringConstraints(min_length=1, max_length=36)]
    questionId: DbId
    content: Annotated[str, StringConstraints(max_length=512 * 1024)]


class AttemptCreated(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"message": "Attempt created", "id": 7}]})

    message: str
    id: int


class AttemptOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 7,
                    "collabId": "d5ed2f3b-942c-4543-a0d3-a6f57f4bf2b4",
                    "questionId": 42,
                    "userIds": ["1", "2"],
                    "language": "python",
                    "content": "print(sum(map(int, input().split())))",
                    "createdAt": "2025-11-04T15:23:00.000Z",
                }
            ]
        }
    )

    id: int
    collabId: str
    questionId: int
    userIds: list[str] = Field(description="Both participants of the collab session")
    language: str
    content: str
    createdAt: datetime

    @field_serializer("createdAt")
    def _iso(self, value: datetime) -> str:
        return iso(value)

    @classmethod
    def of(cls, attempt) -> AttemptOut:
        return cls(
            id=attempt.id,
            collabId=attempt.collab_id,
            questionId=attempt.question_id,
            userIds=[str(attempt.user1_id), str(attempt.user2_id)],
            language=attempt.language,
            content=attempt.content,
            createdAt=attempt.created_at,
        )


class GatewayAttemptIn(BaseModel):
    """The gateway's body: `collabId` is what the PeerPrep frontend sends, the partner's user id
    (or nothing); a collab session id is taken as well."""

    model_config = ConfigDict(
        extra="ignore", json_schema_extra={"examples": [{"collabId": "2", "questionId": 42, "content": "print(1)"}]}
    )

    collabId: Annotated[str, StringConstraints(max_length=36)] | None = None
    questionId: DbId
    content: Annotated[str, StringConstraints(max_length=512 * 1024)]


class GatewayAttemptOut(BaseModel):
    """An attempt as the PeerPrep attempt service shows it to `userId`: `collabId` is the partner."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"id": "7", "userId": "1", "collabId": "2", "question": 42, "code": "print(1)",
                          "createdAt": "2025-11-04T15:23:00.000Z"}]
        }
    )  # fmt: skip

    id: str
    userId: str
    collabId: str
    question: int
    code: str
    createdAt: datetime

    @field_serializer("createdAt")
    def _iso(self, value: datetime) -> str:
        return iso(value)

    @classmethod
    def of(cls, attempt, viewer: int) -> GatewayAttemptOut:
        me = viewer if viewer in (attempt.user1_id, attempt.user2_id) else attempt.user1_id
        partner = attempt.user2_id if me == attempt.user1_id else attempt.user1_id
        return cls(
            id=str(attempt.id), userId=str(me), collabId=str(partner), question=attempt.question_id,
            code=attempt.content, createdAt=attempt.created_at,
        )  # fmt: skip

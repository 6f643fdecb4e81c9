"""Request and response models of the questions API (PeerPrep question-service)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_serializer, field_validator

from api.users.schemas import iso

DIFFICULTY_NAMES = {"easy": "Easy", "medium": "Medium", "hard": "Hard"}

TopicName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
ShortText = Annotated[str, StringConstraints(max_length=2000)]

EXAMPLE_QUESTION = {
    "title": "Two Sum",
    "statement": "Find two numbers that add up to target.",
    "difficulty": "Easy",
    "topicNames": ["Arrays", "Hash Table"],
    "exampleIO": [{"input": "4 9\n2 7 11 15\n", "output": "0 1\n", "explanation": "2 + 7 = 9"}],
    "constraints": ["2 ≤ n ≤ 10^4"],
    "solutionOutline": "Use a hash map.",
    "metadata": {"timeLimitMs": 2000},
}


def normalize_difficulty(value: str) -> str:
    name = DIFFICULTY_NAMES.get(value.strip().lower())
    if name is None:
        raise ValueError(f"unknown difficulty {value!r}; use Easy, Medium or Hard")
    return name


class ExampleIO(BaseModel):
    input: Annotated[str, StringConstraints(max_length=20_000)]
    output: Annotated[str, StringConstraints(max_length=20_000)]
    explanation: ShortText | None = None


class TestCaseIO(BaseModel):
    __test__ = False

    input: str
    output: str


class QuestionIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{**EXAMPLE_QUESTION, "testCases": [{"input": "2 5\n1 4\n", "output": "0 1\n"}]}]
        },
    )

    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    statement: Annotated[str, StringConstraints(min_length=1, max_length=50_000)]
    difficulty: str
    topicNames: Annotated[list[TopicName], Field(max_length=16)] = []
    exampleIO: Annotated[list[ExampleIO], Field(max_length=20)] = []
    constraints: Annotated[list[ShortText], Field(max_length=50)] = []
    solutionOutline: Annotated[str, StringConstraints(max_length=20_000)]
    metadata: dict | None = None
    testCases: Annotated[list[TestCaseIO], Field(max_length=200)] = []

    _difficulty = field_validator("difficulty")(normalize_difficulty)


class QuestionUpdate(QuestionIn):
    """A full update; `deleted: true` soft-deletes, `deleted: false` restores."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{**EXAMPLE_QUESTION, "deleted": False}]})

    testCases: Annotated[list[TestCaseIO], Field(max_length=200)] | None = None
    deleted: bool | None = None


class QuestionPatch(BaseModel):
    """A partial update (the gateway's PATCH): the fields given replace the question's; `id` in the
    body, which the PeerPrep frontend sends, is ignored."""

    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [{"id": 1, "difficulty": "Medium"}]})

    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None
    statement: Annotated[str, StringConstraints(min_length=1, max_length=50_000)] | None = None
    difficulty: str | None = None
    topicNames: Annotated[list[TopicName], Field(max_length=16)] | None = None
    exampleIO: Annotated[list[ExampleIO], Field(max_length=20)] | None = None
    constraints: Annotated[list[ShortText], Field(max_length=50)] | None = None
    solutionOutline: Annotated[str, StringConstraints(max_length=20_000)] | None = None
    metadata: dict | None = None
    testCases: Annotated[list[TestCaseIO], Field(max_length=200)] | None = None

    @field_validator("difficulty")
    @classmethod
    def _difficulty(cls, value: str | None) -> str | None:
        return None if value is None else normalize_difficulty(value)


class TopicRef(BaseModel):
    id: int
    name: str


class QuestionTopicOut(BaseModel):
    """A question's topic as the PeerPrep question service links it."""

    questionId: int
    topicId: int
    topic: TopicRef


class QuestionOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 1,
                    **EXAMPLE_QUESTION,
                    "solutionOutline": "Use a hash map to track complements.",
                    "createdAt": "2025-11-01T12:00:00.000Z",
                    "updatedAt": "2025-11-01T12:00:00.000Z",
                }
            ]
        }
    )

    id: int
    title: str
    statement: str
    difficulty: Literal["Easy", "Medium", "Hard"]
    topicNames: list[str]
    exampleIO: list[ExampleIO]
    constraints: list[str]
    solutionOutline: str
    metadata: dict | None
    topics: list[QuestionTopicOut] = []
    createdAt: datetime
    updatedAt: datetime
    deletedAt: datetime | None = None

    @field_serializer("createdAt", "updatedAt", "deletedAt")
    def _iso(self, value: datetime | None) -> str | None:
        return None if value is None else iso(value)


class AdminQuestionOut(QuestionOut):
    """What admins see: the hidden test cases and the soft-delete flag as well."""

    testCases: list[TestCaseIO]
    deleted: bool


class TopicOut(BaseModel):
    id: int
    name: str


class TopicList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"count": 2, "topics": [{"id": 1, "name": "Arrays"}, {"id": 2, "name": "Graphs"}]}]
        }
    )

    count: int
    topics: list[TopicOut]


class QuestionPage(BaseModel):
    """The gateway's question list; `take` is absent when `take=all`."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [], "total": 0, "skip": 0, "take": 25}]})

    items: list[QuestionOut | AdminQuestionOut]
    total: int
    skip: int
    take: int | None = None


class DeletedQuestion(BaseModel):
    message: str
    deleted: QuestionOut | AdminQuestionOut


class DeletedTopic(BaseModel):
    message: str
    deleted: TopicOut


class LanguageOut(BaseModel):
    id: int = Field(description="The Judge0 language id, used as `languageId` in submissions")
    name: str
    judge0Id: int
    available: bool = Field(description="Whether the judge in use can run this language")


class LanguageList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"count": 1, "languages": [{"id": 71, "name": "Python 3", "judge0Id": 71, "available": True}]}]
        }
    )

    count: int
    languages: list[LanguageOut]

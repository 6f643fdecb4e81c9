"""Questions, their topics and hidden test cases; soft and hard delete."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import delete, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import Question, TestCase, Topic, question_topics

OrderBy = Literal["newest", "oldest", "title"]


class QuestionInUse(Exception):
    """A hard delete was refused because attempts, rooms or submissions refer to the question."""


@dataclass
class QuestionData:
    title: str
    statement: str
    difficulty: str
    topic_names: list[str]
    example_io: list[dict]
    constraints: list[str]
    solution_outline: str
    metadata: dict | None
    test_cases: list[tuple[str, str]] | None = field(default=None)


@dataclass(frozen=True)
class QuestionFilter:
    search: str | None = None
    topic_names: Sequence[str] = ()
    difficulties: Sequence[str] = ()
    judgeable_only: bool = False


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conditions(filters: QuestionFilter) -> list:
    conditions = [Question.deleted_at.is_(None)]
    if filters.search:
        pattern = f"%{_escape_like(filters.search.lower())}%"
        conditions.append(
            or_(
                func.lower(Question.title).like(pattern, escape="\\"),
                func.lower(Question.statement).like(pattern, escape="\\"),
            )
        )
    if filters.topic_names:
        wanted = [name.lower() for name in filters.topic_names]
        conditions.append(
            Question.id.in_(
                select(question_topics.c.question_id)
                .join(Topic, Topic.id == question_topics.c.topic_id)
                .where(func.lower(Topic.name).in_(wanted))
            )
        )
    if filters.difficulties:
        conditions.append(Question.difficulty.in_(filters.difficulties))
    if filters.judgeable_only:
        conditions.append(exists().where(TestCase.question_id == Question.id))
    return conditions


async def search(
    session: AsyncSession, filters: QuestionFilter, order_by: OrderBy, skip: int, take: int
) -> tuple[list[Question], int]:
    """A page of live questions and the total number matching."""
    conditions = _conditions(filters)
    ordering = {
        "newest": (Question.created_at.desc(), Question.id.desc()),
        "oldest": (Question.created_at.asc(), Question.id.asc()),
        "title": (func.lower(Question.title).asc(), Question.id.asc()),
    }[order_by]
    rows = await session.scalars(select(Question).where(*conditions).order_by(*ordering).offset(skip).limit(take))
    total = await session.scalar(select(func.count()).select_from(Question).where(*conditions))
    return list(rows), total or 0


async def random_judgeable(session: AsyncSession, filters: QuestionFilter) -> Question | None:
    conditions = _conditions(QuestionFilter(filters.search, filters.topic_names, filters.difficulties, True))
    return await session.scalar(select(Question).where(*conditions).order_by(func.random()).limit(1))


async def get(session: AsyncSession, question_id: int, include_deleted: bool = False) -> Question | None:
    question = await session.get(Question, question_id)
    if question is None or (question.deleted_at is not None and not include_deleted):
        return None
    return question


async def topics_named(session: AsyncSession, names: Sequence[str]) -> list[Topic]:
    """The topics with these names (case-insensitive), created when missing; safe under races."""
    topics: list[Topic] = []
    for name in dict.fromkeys(name.strip() for name in names if name.strip()):
        topic = await session.scalar(select(Topic).where(func.lower(Topic.name) == name.lower()))
        if topic is None:
            try:
                async with session.begin_nested():
                    topic = Topic(name=name)
                    session.add(topic)
            except IntegrityError:
                topic = await session.scalar(select(Topic).where(func.lower(Topic.name) == name.lower()))
        topics.append(topic)
    return topics


def _apply(question: Question, data: QuestionData, topics: list[Topic]) -> None:
    question.title = data.title
    question.statement = data.statement
    question.difficulty = data.difficulty
    question.example_io = data.example_io
    question.constraints = data.constraints
    question.solution_outline = data.solution_outline
    question.extra = data.metadata
    question.topics = topics


def _test_case_rows(data: QuestionData, question_id: int | None = None) -> list[TestCase]:
    return [
        TestCase(question_id=question_id, ordinal=index, input=given, output=expected)
        for index, (given, expected) in enumerate(data.test_cases or ())
    ]


async def create(session: AsyncSession, data: QuestionData, bank_key: str | None = None) -> Question:
    question = Question(bank_key=bank_key)
    _apply(question, data, await topics_named(session, data.topic_names))
    question.test_cases = _test_case_rows(data)
    session.add(question)
    await session.commit()
    await session.refresh(question)
    return question


async def update(session: AsyncSession, question: Question, data: QuestionData, deleted: bool | None) -> Question:
    """A full update; test cases are replaced only when `data.test_cases` is given."""
    _apply(question, data, await topics_named(session, data.topic_names))
    if data.test_cases is not None:
        await session.execute(
            delete(TestCase).where(TestCase.question_id == question.id).execution_options(synchronize_session=False)
        )
        session.expire(question, ["test_cases"])
        session.add_all(_test_case_rows(data, question.id))
    if deleted is not None:
        question.deleted_at = datetime.now(UTC) if deleted else None
    question.updated_at = datetime.now(UTC)
    await session.commit()
    await session.refresh(question)
    return question


async def soft_delete(session: AsyncSession, question: Question) -> None:
    question.deleted_at = question.deleted_at or datetime.now(UTC)
    await session.commit()


async def hard_delete(session: AsyncSession, question_id: int) -> bool:
    try:
        result = await session.execute(delete(Question).where(Question.id == question_id))
        await session.commit()
    except IntegrityError as error:
        await session.rollback()
        raise QuestionInUse from error
    return result.rowcount > 0


async def list_topics(session: AsyncSession) -> list[Topic]:
    return list(await session.scalars(select(Topic).order_by(func.lower(Topic.name))))


async def get_topic(session: AsyncSession, topic_id: int) -> Topic | None:
    return await session.get(Topic, topic_id)


async def delete_topic(session: AsyncSession, topic_id: int) -> bool:
    result = await session.execute(delete(Topic).where(Topic.id == topic_id))
    await session.commit()
    return result.rowcount > 0

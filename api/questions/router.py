"""Questions, topics and languages (PeerPrep question-service)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from api.core.deps import AdminDep, CallerDep, ServicesDep, SessionDep
from api.core.errors import bad_request, conflict, not_found
from api.core.schemas import ERROR_RESPONSES, DeletedMessage
from api.core.security import Claims
from api.judging.languages import language_support
from api.questions.schemas import (
    AdminQuestionOut,
    LanguageList,
    LanguageOut,
    QuestionIn,
    QuestionOut,
    QuestionUpdate,
    TopicList,
    TopicOut,
    normalize_difficulty,
)
from judge import languages as language_table
from persistence.models import Question
from persistence.repositories import questions

router = APIRouter(tags=["question-service"], responses=ERROR_RESPONSES)


def _comma_list(raw: str | None) -> list[str]:
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


def _difficulties(raw: str | None) -> list[str]:
    try:
        return [normalize_difficulty(part) for part in _comma_list(raw)]
    except ValueError as error:
        raise bad_request(f"Invalid difficulty: {error}") from error


def _render(question: Question, caller: Claims) -> QuestionOut:
    fields = dict(
        id=question.id,
        title=question.title,
        statement=question.statement,
        difficulty=question.difficulty,
        topicNames=[topic.name for topic in question.topics],
        exampleIO=question.example_io or [],
        constraints=question.constraints or [],
        solutionOutline=question.solution_outline,
        metadata=question.extra,
        createdAt=question.created_at,
        updatedAt=question.updated_at,
    )
    if caller.is_admin:
        return AdminQuestionOut(
            **fields,
            testCases=[{"input": case.input, "output": case.output} for case in question.test_cases],
            deleted=question.deleted_at is not None,
        )
    return QuestionOut(**fields)


def _data(body: QuestionIn) -> questions.QuestionData:
    return questions.QuestionData(
        title=body.title,
        statement=body.statement,
        difficulty=body.difficulty,
        topic_names=body.topicNames,
        example_io=[example.model_dump() for example in body.exampleIO],
        constraints=body.constraints,
        solution_outline=body.solutionOutline,
        metadata=body.metadata,
        test_cases=None if body.testCases is None else [(case.input, case.output) for case in body.testCases],
    )


QuestionResponse = QuestionOut | AdminQuestionOut


@router.get("/questions", response_model=list[QuestionResponse], summary="List questions")
async def list_questions(
    response: Response,
    caller: CallerDep,
    svc: ServicesDep,
    session: SessionDep,
    search: Annotated[str | None, Query(max_length=200, examples=["binary search"])] = None,
    topicNames: Annotated[str | None, Query(max_length=1000, examples=["Arrays,Sorting"])] = None,
    difficulty: Annotated[str | None, Query(max_length=100, examples=["Easy,Medium"])] = None,
    orderBy: Literal["newest", "oldest", "title"] = "newest",
    skip: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    take: Annotated[int | None, Query(ge=1, examples=[25])] = None,
) -> list[QuestionResponse]:
    """Live questions matching every filter given; the total is in `X-Total-Count`."""
    page_max = svc.settings.questions_page_max
    if take is not None and take > page_max:
        raise bad_request(f"take must be between 1 and {page_max}")
    filters = questions.QuestionFilter(
        search=search.strip() if search else None,
        topic_names=_comma_list(topicNames),
        difficulties=_difficulties(difficulty),
    )
    rows, total = await questions.search(session, filters, orderBy, skip, take or svc.settings.questions_page_default)
    response.headers["X-Total-Count"] = str(total)
    return [_render(question, caller) for question in rows]


@router.get("/questions/random", response_model=QuestionResponse, summary="A random judgeable question")
async def random_question(
    caller: CallerDep,
    session: SessionDep,
    difficulty: Annotated[str | None, Query(max_length=100)] = None,
    topicNames: Annotated[str | None, Query(max_length=1000)] = None,
    language: Annotated[str | None, Query(max_length=64)] = None,
) -> QuestionResponse:
    if language and language_table.find(language) is None:
        raise bad_request(f"Unknown language: {language}")
    filters = questions.QuestionFilter(topic_names=_comma_list(topicNames), difficulties=_difficulties(difficulty))
    question = await questions.random_judgeable(session, filters)
    if question is None:
        raise not_found("No question matches these criteria")
    return _render(question, caller)


@router.post("/questions", status_code=201, response_model=QuestionResponse, summary="Create a question (admin)")
async def create_question(body: QuestionIn, caller: AdminDep, session: SessionDep) -> QuestionResponse:
    question = await questions.create(session, _data(body))
    return _render(question, caller)


@router.get("/questions/{question_id}", response_model=QuestionResponse, summary="Get a question by id")
async def get_question(question_id: int, caller: CallerDep, session: SessionDep) -> QuestionResponse:
    question = await questions.get(session, question_id, include_deleted=caller.is_admin)
    if question is None:
        raise not_found("Question not found")
    return _render(question, caller)


@router.put("/questions/{question_id}", response_model=QuestionResponse, summary="Update a question (admin)")
async def update_question(
    question_id: int, body: QuestionUpdate, caller: AdminDep, session: SessionDep
) -> QuestionResponse:
    """A full update. `"deleted": true` soft-deletes, `false` restores; omitted `testCases` are kept."""
    question = await questions.get(session, question_id, include_deleted=True)
    if question is None:
        raise not_found("Question not found")
    question = await questions.update(session, question, _data(body), body.deleted)
    return _render(question, caller)


@router.delete("/questions/{question_id}", response_model=DeletedMessage, summary="Soft delete (admin)")
async def soft_delete_question(question_id: int, caller: AdminDep, session: SessionDep) -> DeletedMessage:
    question = await questions.get(session, question_id, include_deleted=True)
    if question is None:
        raise not_found("Question not found")
    await questions.soft_delete(session, question)
    return DeletedMessage(message="Question deleted", deleted=True)


@router.delete("/questions/{question_id}/hard", response_model=DeletedMessage, summary="Hard delete (admin)")
async def hard_delete_question(question_id: int, caller: AdminDep, session: SessionDep) -> DeletedMessage:
    """Removes the question for good; refused with 409 while attempts or contests refer to it."""
    try:
        deleted = await questions.hard_delete(session, question_id)
    except questions.QuestionInUse as error:
        raise conflict("Question is referenced by attempts or contests; soft-delete it instead") from error
    if not deleted:
        raise not_found("Question not found")
    return DeletedMessage(message="Question permanently deleted", deleted=True)


@router.get("/topics", response_model=TopicList, summary="List all topics")
async def list_topics(caller: CallerDep, session: SessionDep) -> TopicList:
    topics = await questions.list_topics(session)
    return TopicList(count=len(topics), topics=[TopicOut(id=topic.id, name=topic.name) for topic in topics])


@router.delete("/topics/{topic_id}", response_model=DeletedMessage, summary="Hard delete a topic (admin)")
async def delete_topic(topic_id: int, caller: AdminDep, session: SessionDep) -> DeletedMessage:
    if not await questions.delete_topic(session, topic_id):
        raise not_found("Topic not found")
    return DeletedMessage(message="Topic permanently deleted", deleted=True)


@router.get("/languages", response_model=LanguageList, summary="List the languages submissions may use")
async def list_languages(caller: CallerDep, svc: ServicesDep) -> LanguageList:
    """`available`: whether the judge workers in use (`JUDGE_BACKEND`) report that they can run it."""
    support = await language_support(svc) or {}
    entries = [
        LanguageOut(
            id=spec.judge0_id,
            name=spec.name,
            judge0Id=spec.judge0_id,
            available=spec.judge0_id in support and support[spec.judge0_id] is None,
        )
        for spec in language_table.LANGUAGES
    ]
    return LanguageList(count=len(entries), languages=entries)

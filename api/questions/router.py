"""Questions, topics and languages (PeerPrep question-service).

Served at the gateway's `/questionBank` (the contract, the shapes of the PeerPrep question
service: a page `{items, total, skip, take}`, `take=all`, PATCH as a partial update, DELETE
answering 204, `…/hard/{id}`) and, deprecated, at `/questions`, `/topics` and `/languages`
(a bare list with `X-Total-Count`, PUT as a full update). One set of queries and one question
renderer serve both; writes need an admin on both (the real service checks nobody).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import JSONResponse

from api.core.deps import AdminDep, CallerDep, ServicesDep, SessionDep
from api.core.errors import bad_request, conflict, not_found
from api.core.ids import DbId
from api.core.schemas import ERROR_RESPONSES, DeletedMessage
from api.core.security import Claims
from api.judging.languages import language_support
from api.questions.schemas import (
    AdminQuestionOut,
    DeletedQuestion,
    DeletedTopic,
    LanguageList,
    LanguageOut,
    QuestionIn,
    QuestionOut,
    QuestionPage,
    QuestionPatch,
    QuestionUpdate,
    TopicList,
    TopicOut,
    normalize_difficulty,
)
from judge import languages as language_table
from persistence.models import Question
from persistence.repositories import questions

router = APIRouter(prefix="/questionBank", tags=["question-service"], responses=ERROR_RESPONSES)
legacy_router = APIRouter(tags=["question-service"], responses=ERROR_RESPONSES, deprecated=True)

QuestionResponse = QuestionOut | AdminQuestionOut
Search = Annotated[str | None, Query(max_length=200, examples=["binary search"])]
TopicNames = Annotated[str | None, Query(max_length=1000, examples=["Arrays,Sorting"])]
Difficulty = Annotated[str | None, Query(max_length=100, examples=["Easy,Medium"])]
OrderBy = Literal["newest", "oldest", "title"]
Skip = Annotated[int, Query(ge=0, le=1_000_000)]


def _comma_list(raw: str | None) -> list[str]:
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


def _difficulties(raw: str | None) -> list[str]:
    try:
        return [normalize_difficulty(part) for part in _comma_list(raw)]
    except ValueError as error:
        raise bad_request(f"Invalid difficulty: {error}") from error


def _filters(search: str | None, topic_names: str | None, difficulty: str | None) -> questions.QuestionFilter:
    return questions.QuestionFilter(
        search=search.strip() if search else None,
        topic_names=_comma_list(topic_names),
        difficulties=_difficulties(difficulty),
    )


def search_filters(
    search: Search = None, topicNames: TopicNames = None, difficulty: Difficulty = None
) -> questions.QuestionFilter:
    """The list routes' filter parameters, one set for the gateway's page and the legacy list."""
    return _filters(search, topicNames, difficulty)


SearchFilters = Annotated[questions.QuestionFilter, Depends(search_filters)]


def _render(question: Question, caller: Claims) -> QuestionResponse:
    fields = dict(
        id=question.id,
        title=question.title,
        statement=question.statement,
        difficulty=question.difficulty,
        topicNames=[topic.name for topic in question.topics],
        topics=[
            {"questionId": question.id, "topicId": topic.id, "topic": {"id": topic.id, "name": topic.name}}
            for topic in question.topics
        ],
        exampleIO=question.example_io or [],
        constraints=question.constraints or [],
        solutionOutline=question.solution_outline,
        metadata=question.extra,
        createdAt=question.created_at,
        updatedAt=question.updated_at,
        deletedAt=question.deleted_at,
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


def _patched(question: Question, patch: QuestionPatch) -> questions.QuestionData:
    """The question's data with the fields `patch` gives replaced."""
    given = patch.model_fields_set
    return questions.QuestionData(
        title=patch.title if patch.title is not None else question.title,
        statement=patch.statement if patch.statement is not None else question.statement,
        difficulty=patch.difficulty if patch.difficulty is not None else question.difficulty,
        topic_names=patch.topicNames if patch.topicNames is not None else [topic.name for topic in question.topics],
        example_io=[e.model_dump() for e in patch.exampleIO] if patch.exampleIO is not None else question.example_io,
        constraints=patch.constraints if patch.constraints is not None else question.constraints or [],
        solution_outline=patch.solutionOutline if patch.solutionOutline is not None else question.solution_outline,
        metadata=patch.metadata if "metadata" in given else question.extra,
        test_cases=None if patch.testCases is None else [(case.input, case.output) for case in patch.testCases],
    )


async def _existing(session, question_id: int) -> Question:
    question = await questions.get(session, question_id, include_deleted=True)
    if question is None:
        raise not_found("Question not found")
    return question


# The gateway's question-service, `/questionBank/...`.


@router.get("/questions", response_model=QuestionPage, summary="List questions: a page, or all of them")
async def page_questions(
    caller: CallerDep,
    svc: ServicesDep,
    session: SessionDep,
    filters: SearchFilters,
    orderBy: OrderBy = "newest",
    skip: Skip = 0,
    take: Annotated[str, Query(pattern=r"^(all|[1-9][0-9]{0,6})$", examples=["25", "all"])] = "25",
) -> JSONResponse:
    """Live questions matching every filter given. `take=all` gives every one (up to
    `QUESTIONS_TAKE_ALL_MAX`) and ignores `skip`; otherwise `take` is at most `QUESTIONS_PAGE_MAX`."""
    if take == "all":
        skip, limit = 0, svc.settings.questions_take_all_max
    else:
        limit = int(take)
        if limit > svc.settings.questions_page_max:
            raise bad_request(f"take must be between 1 and {svc.settings.questions_page_max}, or all")
    rows, total = await questions.search(session, filters, orderBy, skip, limit)
    items = [_render(question, caller).model_dump(mode="json") for question in rows]
    page = {"items": items, "total": total, "skip": skip}
    return JSONResponse(page if take == "all" else {**page, "take": limit})  # `take` absent with take=all


@router.post("/questions", status_code=201, response_model=QuestionResponse, summary="Create a question (admin)")
async def create_question(body: QuestionIn, caller: AdminDep, session: SessionDep) -> QuestionResponse:
    return _render(await questions.create(session, _data(body)), caller)


@router.get("/questions/{question_id}", response_model=QuestionResponse, summary="Get a question by id")
async def get_question(question_id: DbId, caller: CallerDep, session: SessionDep) -> QuestionResponse:
    """Soft-deleted questions too (with `deletedAt`), as attempts and sessions still refer to them."""
    return _render(await _existing(session, question_id), caller)


@router.patch("/questions/{question_id}", response_model=QuestionResponse, summary="Update some fields (admin)")
async def patch_question(
    question_id: DbId, body: QuestionPatch, caller: AdminDep, session: SessionDep
) -> QuestionResponse:
    """In place, the id kept (the real service writes a new question with a new id, which its own
    frontend then cannot find); omitted `testCases` are kept."""
    question = await _existing(session, question_id)
    return _render(await questions.update(session, question, _patched(question, body), None), caller)


@router.delete("/questions/{question_id}", status_code=204, summary="Soft delete (admin)")
async def delete_question(question_id: DbId, caller: AdminDep, session: SessionDep) -> Response:
    await questions.soft_delete(session, await _existing(session, question_id))
    return Response(status_code=204)


@router.delete("/questions/hard/{question_id}", response_model=DeletedQuestion, summary="Hard delete (admin)")
async def hard_delete_question(question_id: DbId, caller: AdminDep, session: SessionDep) -> dict:
    question = _render(await _existing(session, question_id), caller)
    await _hard_delete(session, question_id)
    return {"message": "Question permanently deleted", "deleted": question}


@router.get("/topics", response_model=TopicList, summary="List all topics")
async def list_topics(caller: CallerDep, session: SessionDep) -> TopicList:
    topics = await questions.list_topics(session)
    return TopicList(count=len(topics), topics=[TopicOut(id=topic.id, name=topic.name) for topic in topics])


@router.delete("/topics/hard/{topic_id}", response_model=DeletedTopic, summary="Hard delete a topic (admin)")
async def hard_delete_topic(topic_id: DbId, caller: AdminDep, session: SessionDep) -> dict:
    topic = await questions.get_topic(session, topic_id)
    if topic is None:
        raise not_found("Topic not found")
    deleted = {"id": topic.id, "name": topic.name}
    await questions.delete_topic(session, topic_id)
    return {"message": "Topic permanently deleted", "deleted": deleted}


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


async def _hard_delete(session, question_id: int) -> bool:
    try:
        return await questions.hard_delete(session, question_id)
    except questions.QuestionInUse as error:
        raise conflict("Question is referenced by attempts or contests; soft-delete it instead") from error


# Deprecated aliases: `/questions`, `/topics`, `/languages`.


@legacy_router.get("/questions", response_model=list[QuestionResponse], summary="List questions")
async def list_questions(
    response: Response,
    caller: CallerDep,
    svc: ServicesDep,
    session: SessionDep,
    filters: SearchFilters,
    orderBy: OrderBy = "newest",
    skip: Skip = 0,
    take: Annotated[int | None, Query(ge=1, examples=[25])] = None,
) -> list[QuestionResponse]:
    """Live questions matching every filter given; the total is in `X-Total-Count`."""
    page_max = svc.settings.questions_page_max
    if take is not None and take > page_max:
        raise bad_request(f"take must be between 1 and {page_max}")
    limit = take or svc.settings.questions_page_default
    rows, total = await questions.search(session, filters, orderBy, skip, limit)
    response.headers["X-Total-Count"] = str(total)
    return [_render(question, caller) for question in rows]


@legacy_router.get("/questions/random", response_model=QuestionResponse, summary="A random judgeable question")
async def random_question(
    caller: CallerDep,
    session: SessionDep,
    difficulty: Difficulty = None,
    topicNames: TopicNames = None,
    language: Annotated[str | None, Query(max_length=64)] = None,
) -> QuestionResponse:
    if language and language_table.find(language) is None:
        raise bad_request(f"Unknown language: {language}")
    question = await questions.random_judgeable(session, _filters(None, topicNames, difficulty))
    if question is None:
        raise not_found("No question matches these criteria")
    return _render(question, caller)


legacy_router.add_api_route("/questions", create_question, methods=["POST"], status_code=201,
                            response_model=QuestionResponse, summary="Create a question (admin)")  # fmt: skip


@legacy_router.get("/questions/{question_id}", response_model=QuestionResponse, summary="Get a question by id")
async def get_live_question(question_id: DbId, caller: CallerDep, session: SessionDep) -> QuestionResponse:
    """404 for a soft-deleted question, but for admins."""
    question = await questions.get(session, question_id, include_deleted=caller.is_admin)
    if question is None:
        raise not_found("Question not found")
    return _render(question, caller)


@legacy_router.put("/questions/{question_id}", response_model=QuestionResponse, summary="Update a question (admin)")
async def update_question(
    question_id: DbId, body: QuestionUpdate, caller: AdminDep, session: SessionDep
) -> QuestionResponse:
    """A full update. `"deleted": true` soft-deletes, `false` restores; omitted `testCases` are kept."""
    question = await _existing(session, question_id)
    return _render(await questions.update(session, question, _data(body), body.deleted), caller)


@legacy_router.delete("/questions/{question_id}", response_model=DeletedMessage, summary="Soft delete (admin)")
async def soft_delete_question(question_id: DbId, caller: AdminDep, session: SessionDep) -> DeletedMessage:
    await questions.soft_delete(session, await _existing(session, question_id))
    return DeletedMessage(message="Question deleted", deleted=True)


@legacy_router.delete("/questions/{question_id}/hard", response_model=DeletedMessage, summary="Hard delete (admin)")
async def hard_delete_question_alias(question_id: DbId, caller: AdminDep, session: SessionDep) -> DeletedMessage:
    """Removes the question for good; refused with 409 while attempts or contests refer to it."""
    if not await _hard_delete(session, question_id):
        raise not_found("Question not found")
    return DeletedMessage(message="Question permanently deleted", deleted=True)


legacy_router.add_api_route("/topics", list_topics, methods=["GET"], response_model=TopicList,
                            summary="List all topics")  # fmt: skip


@legacy_router.delete("/topics/{topic_id}", response_model=DeletedMessage, summary="Hard delete a topic (admin)")
async def delete_topic(topic_id: DbId, caller: AdminDep, session: SessionDep) -> DeletedMessage:
    if not await questions.delete_topic(session, topic_id):
        raise not_found("Topic not found")
    return DeletedMessage(message="Topic permanently deleted", deleted=True)


legacy_router.add_api_route("/languages", list_languages, methods=["GET"], response_model=LanguageList,
                            summary="List the languages submissions may use")  # fmt: skip

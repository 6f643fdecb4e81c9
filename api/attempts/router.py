"""Attempts API (PeerPrep attempt-service); every record is visible to its participants only."""

from __future__ import annotations

from fastapi import APIRouter

from api.attempts.schemas import AttemptCreated, AttemptIn, AttemptOut
from api.core.deps import CallerDep, SessionDep, parse_user_id, require_self_or_admin
from api.core.errors import forbidden, not_found
from api.core.schemas import ERROR_RESPONSES
from persistence.repositories import attempts, questions

router = APIRouter(prefix="/attempts", tags=["attempt-service"], responses=ERROR_RESPONSES)


@router.post("", status_code=201, response_model=AttemptCreated, summary="Create an attempt")
async def create_attempt(body: AttemptIn, caller: CallerDep, session: SessionDep) -> AttemptCreated:
    collab = await attempts.collab_session(session, body.collabId)
    if collab is None:
        raise not_found("Collab session not found")
    if caller.user_id not in collab.user_ids:
        raise forbidden("Only participants of the collab session may record an attempt")
    if await questions.get(session, body.questionId, include_deleted=True) is None:
        raise not_found("Question not found")
    attempt = await attempts.create(session, collab, body.questionId, body.content)
    return AttemptCreated(message="Attempt created", id=attempt.id)


@router.get("/users/{user_id}", response_model=list[AttemptOut], summary="All attempts of a user")
async def attempts_of_user(user_id: str, caller: CallerDep, session: SessionDep) -> list[AttemptOut]:
    target = parse_user_id(user_id)
    require_self_or_admin(caller, target)
    return [AttemptOut.of(attempt) for attempt in await attempts.of_user(session, target)]


@router.get("/users/{user_id}/questions", response_model=list[int], summary="Question ids a user attempted")
async def questions_of_user(user_id: str, caller: CallerDep, session: SessionDep) -> list[int]:
    target = parse_user_id(user_id)
    require_self_or_admin(caller, target)
    return await attempts.question_ids_of_user(session, target)


@router.get("/{attempt_id}", response_model=AttemptOut, summary="Get an attempt by id")
async def get_attempt(attempt_id: int, caller: CallerDep, session: SessionDep) -> AttemptOut:
    attempt = await attempts.get(session, attempt_id)
    if attempt is None:
        raise not_found("Attempt not found")
    if caller.user_id not in (attempt.user1_id, attempt.user2_id) and not caller.is_admin:
        raise forbidden("Only participants of this attempt may read it")
    return AttemptOut.of(attempt)

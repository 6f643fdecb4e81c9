"""Attempts API (PeerPrep attempt-service); every record is visible to its participants only.

Served at the gateway's `/attempt` (the contract, the PeerPrep attempt service's shapes: an
attempt is `{id, userId, collabId, question, code}` where `collabId` is the partner's user id,
as the PeerPrep frontend sends and reads it) and, deprecated, at `/attempts`. An attempt
belongs to both users of its collab session. The real service lets anyone read anyone's
attempts; here another user's list shows only the attempts the caller shares with them.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.attempts.schemas import AttemptCreated, AttemptIn, AttemptOut, GatewayAttemptIn, GatewayAttemptOut
from api.core.deps import CallerDep, SessionDep, parse_user_id, require_self_or_admin
from api.core.errors import forbidden, not_found
from api.core.ids import DbId, as_id
from api.core.schemas import ERROR_RESPONSES
from api.core.security import Claims
from persistence.models import Attempt, CollabSession
from persistence.repositories import attempts, questions

router = APIRouter(prefix="/attempt", tags=["attempt-service"], responses=ERROR_RESPONSES)
legacy_router = APIRouter(prefix="/attempts", tags=["attempt-service"], responses=ERROR_RESPONSES, deprecated=True)


async def _record(session, caller: Claims, collab: CollabSession | None, question_id: int, content: str) -> Attempt:
    """The one way an attempt is stored: the caller is a participant, the question exists."""
    if collab is None:
        raise not_found("Collab session not found")
    if caller.user_id not in collab.user_ids:
        raise forbidden("Only participants of the collab session may record an attempt")
    if await questions.get(session, question_id, include_deleted=True) is None:
        raise not_found("Question not found")
    return await attempts.create(session, collab, question_id, content)


async def _readable(session, caller: Claims, attempt_id: int) -> Attempt:
    attempt = await attempts.get(session, attempt_id)
    if attempt is None:
        raise not_found("Attempt not found")
    if caller.user_id not in (attempt.user1_id, attempt.user2_id) and not caller.is_admin:
        raise forbidden("Only participants of this attempt may read it")
    return attempt


# The gateway's attempt-service, `/attempt/...`.


@router.post("", status_code=201, response_model=AttemptCreated, summary="Save an attempt of the caller's session")
async def save_attempt(body: GatewayAttemptIn, caller: CallerDep, session: SessionDep) -> AttemptCreated:
    """`collabId`: the partner's user id (the caller's latest session with them, preferring one on
    this question), a collab session id, or absent (the caller's latest session)."""
    collab = None
    if body.collabId:
        collab = await attempts.collab_session(session, body.collabId)
        partner = as_id(body.collabId)
        if collab is None and partner is not None:
            collab = await attempts.latest_session_of(session, caller.user_id, partner, body.questionId)
    else:
        collab = await attempts.latest_session_of(session, caller.user_id, question_id=body.questionId)
    attempt = await _record(session, caller, collab, body.questionId, body.content)
    return AttemptCreated(message="Attempt created", id=attempt.id)


@router.get("/user/{user_id}", response_model=list[GatewayAttemptOut], summary="A user's attempts, newest first")
async def user_attempts(user_id: str, caller: CallerDep, session: SessionDep) -> list[GatewayAttemptOut]:
    """All of the caller's own (or, for an admin, anyone's); of another user, those shared with the caller."""
    target = parse_user_id(user_id)
    found = await attempts.of_user(session, target)
    if target != caller.user_id and not caller.is_admin:
        found = [attempt for attempt in found if caller.user_id in (attempt.user1_id, attempt.user2_id)]
    return [GatewayAttemptOut.of(attempt, target) for attempt in found]


@router.get("/unique-qns/{user_id}", response_model=list[int], summary="Question ids a user attempted")
async def unique_questions(user_id: str, caller: CallerDep, session: SessionDep) -> list[int]:
    target = parse_user_id(user_id)
    require_self_or_admin(caller, target)
    return await attempts.question_ids_of_user(session, target)


@router.get("/{attempt_id}", response_model=GatewayAttemptOut, summary="Get an attempt by id")
async def read_attempt(attempt_id: DbId, caller: CallerDep, session: SessionDep) -> GatewayAttemptOut:
    return GatewayAttemptOut.of(await _readable(session, caller, attempt_id), caller.user_id)


# Deprecated aliases: `/attempts/...`.


@legacy_router.post("", status_code=201, response_model=AttemptCreated, summary="Create an attempt")
async def create_attempt(body: AttemptIn, caller: CallerDep, session: SessionDep) -> AttemptCreated:
    attempt = await _record(
        session, caller, await attempts.collab_session(session, body.collabId), body.questionId, body.content
    )
    return AttemptCreated(message="Attempt created", id=attempt.id)


@legacy_router.get("/users/{user_id}", response_model=list[AttemptOut], summary="All attempts of a user")
async def attempts_of_user(user_id: str, caller: CallerDep, session: SessionDep) -> list[AttemptOut]:
    target = parse_user_id(user_id)
    require_self_or_admin(caller, target)
    return [AttemptOut.of(attempt) for attempt in await attempts.of_user(session, target)]


legacy_router.add_api_route("/users/{user_id}/questions", unique_questions, methods=["GET"], response_model=list[int],
                            summary="Question ids a user attempted")  # fmt: skip


@legacy_router.get("/{attempt_id}", response_model=AttemptOut, summary="Get an attempt by id")
async def get_attempt(attempt_id: DbId, caller: CallerDep, session: SessionDep) -> AttemptOut:
    return AttemptOut.of(await _readable(session, caller, attempt_id))

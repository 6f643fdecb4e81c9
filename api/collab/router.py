"""Collab sessions over REST (PeerPrep collab-service): every answer is `{"data": ...}`.

A session belongs to its actor: its creation, live state (code, participants, status) and
end are messages to it; finding a user's session reads the database. The gateway's paths
(`/collab/healthz`, `/collab/sessions/active` (200 with `data: null` when there is none, as the
real service answers), `…/active/username`, `POST /collab/sessions/{id}` (doc.yaml's end),
`…/sweeper/run`) stand beside this server's first paths, which stay (`/collab/health`,
`/collab/sessions/me` (404 when there is none), `…/by-username`, `…/sweep`); the paths both
name are one route each.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse

from actors.collab.records import SessionRecord
from actors.collab.session import (
    CreateSession,
    EndSession,
    GetSession,
    JoinSession,
    LeaveSession,
    SessionClosed,
    SessionConflict,
    SessionNotFound,
    session_actor_id,
)
from api.collab.schemas import CreateSessionIn, SessionId, UsernameIn
from api.core.actors import actor_runtime
from api.core.deps import AdminDep, CallerDep, ServicesDep, SessionDep, parse_user_id
from api.core.errors import bad_request, conflict, forbidden, not_found
from api.core.schemas import ERROR_RESPONSES
from persistence.repositories import collab as records
from persistence.repositories import users

router = APIRouter(prefix="/collab", tags=["collab"], responses=ERROR_RESPONSES)

def data(value: Any, status: int = 200) -> JSONResponse:
    return JSONResponse({"data": value}, status_code=status)


async def ask_session(svc, session_id: str, message) -> dict[str, Any]:
    """The session's answer to `message`, once it has every edit this front relayed (its code is
    then the one the connections here hold)."""
    client = actor_runtime(svc).client
    if svc.collab is not None:
        await svc.collab.settle(session_id)
    try:
        return await client.ask(session_actor_id(session_id), message)
    except SessionNotFound as error:
        raise not_found(error.message) from None
    except (SessionClosed, SessionConflict) as error:
        raise conflict(error.message) from None


def require_participant(caller, session: dict[str, Any], allow_admin: bool = True) -> None:
    if str(caller.user_id) in (session["user1ID"], session["user2ID"]):
        return
    if allow_admin and caller.is_admin:
        return
    raise forbidden("Only the session's participants may do this")


@router.get("/healthz", response_class=PlainTextResponse, summary="Collab service health (the gateway's)")
async def healthz() -> PlainTextResponse:
    return PlainTextResponse("ok")


@router.get("/health", summary="Collab service health", deprecated=True)
async def health() -> JSONResponse:
    return data({"status": "ok"})


async def active_session(svc, session, user_id: int) -> dict[str, Any] | None:
    """The user's active session as its actor has it, or None."""
    row = await records.active_session_of(session, user_id)
    session_id = None if row is None else row.id
    await session.rollback()  # the read is over: hold no connection while the actor answers
    return None if session_id is None else await ask_session(svc, session_id, GetSession())


async def user_named(session, name: str):
    user = await users.by_username(session, name) or await users.by_email(session, name)
    if user is None:
        raise not_found("User not found")
    return user


@router.get("/sessions/active", summary="The caller's active session, or data: null")
async def active(caller: CallerDep, svc: ServicesDep, session: SessionDep) -> JSONResponse:
    return data(await active_session(svc, session, caller.user_id))


@router.post("/sessions/active/username", summary="A user's active session by username, or data: null (admin)")
async def active_by_username(
    body: UsernameIn, caller: AdminDep, svc: ServicesDep, session: SessionDep
) -> JSONResponse:
    """The real service leaves this open to anyone ("not secure"); here it is an admin's."""
    return data(await active_session(svc, session, (await user_named(session, body.username)).id))


@router.get("/sessions/me", summary="The caller's active session (404 when none)", deprecated=True)
async def my_session(caller: CallerDep, svc: ServicesDep, session: SessionDep) -> JSONResponse:
    found = await active_session(svc, session, caller.user_id)
    if found is None:
        raise not_found("No active session")
    return data(found)


@router.post("/sessions/by-username", summary="A user's active session, by username (admin)", deprecated=True)
async def by_username(body: UsernameIn, caller: AdminDep, svc: ServicesDep, session: SessionDep) -> JSONResponse:
    found = await active_session(svc, session, (await user_named(session, body.username)).id)
    if found is None:
        raise not_found("No active session")
    return data(found)


@router.post("/sessions", status_code=201, summary="Create a session for two users (admin)")
async def create(body: CreateSessionIn, caller: AdminDep, svc: ServicesDep, session: SessionDep) -> JSONResponse:
    user1, user2 = parse_user_id(body.user1ID), parse_user_id(body.user2ID)
    if user1 == user2:
        raise bad_request("user1ID and user2ID must differ")
    for user_id in (user1, user2):
        if await users.get(session, user_id) is None:
            raise bad_request(f"User {user_id} does not exist")
    await session.rollback()  # the reads are over: hold no connection while the actor answers
    now = datetime.now(UTC)
    expires = body.expiresAt or now + timedelta(seconds=svc.settings.collab_session_ttl_seconds)
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    record = SessionRecord(
        id=body.id or str(uuid.uuid4()), topic=body.topic, difficulty=body.difficulty, question_id=body.questionId,
        language=body.language, user1_id=user1, user2_id=user2, created_at=now, expires_at=expires,
    )  # fmt: skip
    return data(await ask_session(svc, record.id, CreateSession(record)), status=201)


async def end_expired(svc, session) -> list[dict[str, Any]]:
    expired = await records.expired_ids(session, datetime.now(UTC))
    await session.rollback()
    return [await ask_session(svc, session_id, EndSession("EXPIRED")) for session_id in expired]


@router.post("/sessions/sweeper/run", summary="End every expired session (admin): data.expired counts them")
async def run_sweeper(caller: AdminDep, svc: ServicesDep, session: SessionDep) -> JSONResponse:
    return data({"expired": len(await end_expired(svc, session))})


@router.post("/sessions/sweep", summary="End every expired session (admin)", deprecated=True)
async def sweep(caller: AdminDep, svc: ServicesDep, session: SessionDep) -> JSONResponse:
    return data(await end_expired(svc, session))


@router.get("/sessions/{sessionId}", summary="A session (participants and admins)")
async def get_session(sessionId: SessionId, caller: CallerDep, svc: ServicesDep) -> JSONResponse:
    found = await ask_session(svc, sessionId, GetSession())
    require_participant(caller, found)
    return data(found)


@router.post("/sessions/{sessionId}/end", summary="End the session for both users; the final code is saved")
async def end(sessionId: SessionId, caller: CallerDep, svc: ServicesDep) -> JSONResponse:
    require_participant(caller, await ask_session(svc, sessionId, GetSession()))
    return data(await ask_session(svc, sessionId, EndSession()))


router.add_api_route("/sessions/{sessionId}", end, methods=["POST"],
                     summary="End the session (doc.yaml's path of `…/end`)")  # fmt: skip


@router.post("/sessions/{sessionId}/join", summary="Join the session (participants)")
async def join(sessionId: SessionId, caller: CallerDep, svc: ServicesDep) -> JSONResponse:
    require_participant(caller, await ask_session(svc, sessionId, GetSession()), allow_admin=False)
    return data(await ask_session(svc, sessionId, JoinSession(caller.user_id)))


@router.post("/sessions/{sessionId}/leave", summary="Leave the session (participants)")
async def leave(sessionId: SessionId, caller: CallerDep, svc: ServicesDep) -> JSONResponse:
    require_participant(caller, await ask_session(svc, sessionId, GetSession()), allow_admin=False)
    return data(await ask_session(svc, sessionId, LeaveSession(caller.user_id)))

"""The 1v1 contest (seed 001): paths, query parameters, bodies and messages exactly as the seed.

Rooms are actors: everything that changes a room, its creation included, is a message to
its actor. Records the rooms have already written (history, submissions, problems) are read
from the database.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse

from actors.contest.messages import End, GetState, Start, Submit
from actors.contest.views import iso
from api.contest.rooms import ask_room, create_room, join_room
from api.contest.schemas import (
    EndOut,
    LeaderboardRowOut,
    ProfileOut,
    RoomDetailOut,
    RoomOut,
    StatsOut,
    SubmissionAccepted,
    SubmissionIn,
)
from api.core.auth_limits import client_ip
from api.core.deps import CallerDep, ServicesDep, SessionDep
from api.core.errors import ApiError, forbidden
from api.core.ids import DbId
from api.core.schemas import ERROR_RESPONSES
from judge import languages
from persistence.models import ContestHistory
from persistence.repositories import contest as records
from persistence.repositories import users

router = APIRouter(prefix="/rooms", tags=["contest"], responses=ERROR_RESPONSES)

RoomId = Annotated[DbId, Query(alias="roomId")]
Password = Annotated[str, Query(max_length=64)]


async def require_user(session, user_id: int) -> None:
    """The token's user exists; the read is ended, so no connection is held while an actor answers."""
    found = await users.get(session, user_id)
    await session.rollback()
    if found is None:
        raise ApiError(401, "Invalid token")


@router.post("/create", response_model=RoomOut, summary="Create a room; the caller is its host")
async def create(caller: CallerDep, svc: ServicesDep, session: SessionDep, password: Password = "") -> dict:
    await require_user(session, caller.user_id)
    chosen = password.strip() or f"{secrets.randbelow(10_000):04d}"
    return await create_room(svc, session, caller.user_id, chosen)


@router.post("/join", response_class=PlainTextResponse, summary="Join a room with its password")
async def join(
    request: Request, caller: CallerDep, svc: ServicesDep, session: SessionDep, room_id: RoomId, password: Password = ""
):
    await require_user(session, caller.user_id)
    return PlainTextResponse(await join_room(svc, client_ip(request), caller.user_id, room_id, password))


@router.post("/start", response_class=PlainTextResponse, summary="Start the contest (host only, 2 players)")
async def start(caller: CallerDep, svc: ServicesDep, room_id: RoomId):
    return PlainTextResponse(await ask_room(svc, room_id, Start(caller.user_id)))


@router.post("/submit", response_model=SubmissionAccepted, summary="Submit code; stored PENDING, then judged")
async def submit(request: Request, caller: CallerDep, svc: ServicesDep, body: SubmissionIn) -> dict:
    limit = svc.settings.submission_max_bytes
    if len(body.code.encode()) > limit:
        raise ApiError(413, f"Code is larger than {limit} bytes")
    if languages.BY_ID.get(body.languageId) is None:
        raise ApiError(400, f"Unsupported languageId {body.languageId}")
    received_at = getattr(request.state, "received_at", None)
    message = Submit(caller.user_id, body.problemId, body.languageId, body.code, received_at)
    submission_id = await ask_room(svc, body.roomId, message)
    return {"status": "PENDING", "submissionId": submission_id}


@router.get("/leaderboard", response_model=list[LeaderboardRowOut], summary="The room's ranked leaderboard")
async def leaderboard(caller: CallerDep, svc: ServicesDep, room_id: RoomId) -> list[dict]:
    return (await ask_room(svc, room_id, GetState()))["leaderboard"]


@router.post("/end", response_model=EndOut, summary="End the contest now (host only)")
async def end(caller: CallerDep, svc: ServicesDep, room_id: RoomId) -> dict:
    return await ask_room(svc, room_id, End(caller.user_id))


def stats_out(stats: records.ContestStats) -> dict:
    return {
        "totalContests": stats.total_contests,
        "wins": stats.wins,
        "losses": stats.losses,
        "draws": stats.draws,
        "totalSolved": stats.total_solved,
        "winRate": stats.win_rate,
    }


def match_out(row: ContestHistory) -> dict:
    return {
        "id": row.id,
        "userId": row.user_id,
        "roomId": row.room_id,
        "solved": row.solved,
        "penalty": row.penalty,
        "result": row.result,
        "timestamp": int(row.timestamp.timestamp() * 1000),
    }


@router.get("/stats", response_model=StatsOut, summary="The caller's contest statistics")
async def stats(caller: CallerDep, session: SessionDep) -> dict:
    return stats_out(await records.stats(session, caller.user_id))


@router.get("/profile", response_model=ProfileOut, summary="The caller's statistics and latest 5 contests")
async def profile(caller: CallerDep, session: SessionDep) -> dict:
    return {
        "stats": stats_out(await records.stats(session, caller.user_id)),
        "recentMatches": [match_out(row) for row in await records.recent_matches(session, caller.user_id)],
    }


@router.get("/{roomId}", response_model=RoomDetailOut, summary="A room, its problems and the caller's submissions")
async def room_detail(roomId: DbId, caller: CallerDep, svc: ServicesDep, session: SessionDep) -> dict:
    state = await ask_room(svc, roomId, GetState())
    if caller.user_id not in state["participants"]:
        raise forbidden("User not in room")
    problems = await records.room_problems(session, roomId)
    own = await records.submissions_of(session, roomId, caller.user_id)
    return {
        "room": state["room"],
        "problems": [
            {
                "id": question.id,
                "title": question.title,
                "statement": question.statement,
                "difficulty": question.difficulty,
                "examples": question.example_io,
                "constraints": question.constraints,
            }
            for question in problems
        ],
        "submissions": [
            {
                "id": row.id,
                "problemId": row.question_id,
                "languageId": row.language_id,
                "status": {"id": row.status_id, "description": row.status_description},
                "time": row.time_seconds,
                "memory": row.memory_kb,
                "createdAt": iso(row.created_at),
                "compileOutput": row.compile_output,
            }
            for row in own
        ],
    }

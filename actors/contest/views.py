"""The seed's JSON shapes, built from a room's state; and the per-viewer RoomStateResponse.

A room publishes one full state for everyone; each front renders it for each of its
connections, so `myProblems` is really the viewer's (the seed filled it by map order).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from actors.clock import iso_utc
from actors.contest.records import RoomRecord
from actors.contest.scoring import LeaderboardRow, ProblemStanding, epoch_ms


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else iso_utc(moment)


def room_json(room: RoomRecord) -> dict[str, Any]:
    """The seed's Room object; `duration` is in minutes, as the seed's `10`."""
    duration = None
    if room.duration_seconds is not None:
        minutes = room.duration_seconds / 60
        duration = int(minutes) if minutes.is_integer() else minutes
    return {
        "id": room.id,
        "hostUserId": room.host_user_id,
        "password": room.password,
        "status": room.status,
        "startTime": iso(room.start_time),
        "endTime": iso(room.end_time),
        "duration": duration,
    }


def problem_json(room: RoomRecord, standing: ProblemStanding) -> dict[str, Any]:
    return {
        "id": room.problem_row_ids.get((standing.user_id, standing.question_id)),
        "userId": standing.user_id,
        "roomId": room.id,
        "problemId": standing.question_id,
        "attempts": standing.attempts,
        "penalty": standing.penalty,
        "solved": standing.solved,
        "solvedAt": epoch_ms(standing.solved_at),
    }


def leaderboard_json(board: list[LeaderboardRow]) -> list[dict[str, Any]]:
    return [
        {
            "userId": row.user_id,
            "solved": row.solved,
            "penalty": row.penalty,
            "lastSolvedTime": row.last_solved_time,
            "rank": row.rank,
        }
        for row in board
    ]


def room_state_for(state: dict[str, Any], viewer: int | None) -> dict[str, Any]:
    """RoomStateResponse for one viewer. Anyone else (an anonymous subscriber, as seed 001's
    `test.html`) gets the spectator view: no `myProblems`, every player's in `opponentProblems`
    (each cell names its `userId`)."""
    participants: list[int] = state["participants"]
    problems: dict[str, list] = state["problems"]
    if viewer in participants:
        mine, others = viewer, [user for user in participants if user != viewer]
    else:
        mine, others = None, participants
    return {
        "roomId": state["roomId"],
        "leaderboard": state["leaderboard"],
        "myProblems": problems.get(str(mine), []) if mine is not None else [],
        "opponentProblems": [problem for user in others for problem in problems.get(str(user), [])],
    }

"""Request and response models of the contest API (seed 001), with the seed's examples."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.core.ids import DbId


def _example(example: dict) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [example]})


class RoomOut(BaseModel):
    model_config = _example(
        {
            "id": 101,
            "hostUserId": 1,
            "password": "1234",
            "status": "WAITING",
            "startTime": None,
            "endTime": None,
            "duration": None,
        }
    )

    id: int
    hostUserId: int
    password: str
    status: Literal["WAITING", "ACTIVE", "FINISHED"]
    startTime: str | None
    endTime: str | None
    duration: float | None = Field(description="Minutes, once the contest has started")


class SubmissionIn(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [{"roomId": 101, "problemId": 11, "code": "public class Main { ... }", "languageId": 54}]
        },
    )

    roomId: DbId
    problemId: DbId
    code: str
    languageId: int


class SubmissionAccepted(BaseModel):
    model_config = _example({"status": "PENDING", "submissionId": 5001})

    status: Literal["PENDING"]
    submissionId: int


class LeaderboardRowOut(BaseModel):
    model_config = _example({"userId": 1, "solved": 2, "penalty": 1240, "lastSolvedTime": 1712001200000, "rank": 1})

    userId: int
    solved: int
    penalty: int
    lastSolvedTime: int | None
    rank: int


class EndOut(BaseModel):
    model_config = _example({"winnerUserId": 1, "result": "WIN"})

    winnerUserId: int | None
    result: Literal["WIN", "DRAW"]


class StatsOut(BaseModel):
    model_config = _example(
        {"totalContests": 8, "wins": 5, "losses": 2, "draws": 1, "totalSolved": 14, "winRate": 62.5}
    )

    totalContests: int
    wins: int
    losses: int
    draws: int
    totalSolved: int
    winRate: float


class MatchOut(BaseModel):
    model_config = _example(
        {
            "id": 41,
            "userId": 1,
            "roomId": 101,
            "solved": 2,
            "penalty": 1240,
            "result": "WIN",
            "timestamp": 1712002000000,
        }
    )

    id: int
    userId: int
    roomId: int
    solved: int
    penalty: int
    result: Literal["WIN", "LOSS", "DRAW"]
    timestamp: int


class ProfileOut(BaseModel):
    stats: StatsOut
    recentMatches: list[MatchOut]


class ProblemOut(BaseModel):
    """A room's problem as participants see it: never the hidden tests."""

    id: int
    title: str
    statement: str
    difficulty: str
    examples: list
    constraints: list


class StatusOut(BaseModel):
    id: int
    description: str


class OwnSubmissionOut(BaseModel):
    id: int
    problemId: int
    languageId: int
    status: StatusOut
    time: float | None
    memory: int | None
    createdAt: str
    compileOutput: str | None


class RoomDetailOut(BaseModel):
    room: RoomOut
    problems: list[ProblemOut]
    submissions: list[OwnSubmissionOut]

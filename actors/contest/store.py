"""What a room needs from persistence; `actors/stores/contest.py` implements it over SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from actors.contest.records import HistoryEntry, RoomRecord
from actors.contest.scoring import ProblemStanding
from judge.cases import TestCase
from judge.verdicts import Verdict


class RoomStore(Protocol):
    async def create(self, room_id: int, host_user_id: int, password: str, created_at: datetime) -> RoomRecord:
        """Store a WAITING room with its host seated; raises AlreadyInAnotherRoom when the host
        holds another live room (then nothing is stored)."""

    async def load(self, room_id: int) -> RoomRecord | None:
        """The room with its participants, problems and submissions (without code)."""

    async def add_participant(self, room_id: int, user_id: int) -> None:
        """Seat the user; raises AlreadyInAnotherRoom when they hold another live room."""

    async def tests_of(self, question_id: int) -> tuple[TestCase, ...]:
        """The question's tests in order, for the judge."""

    async def pick_problems(self, count: int) -> list[int]:
        """Up to `count` random judgeable question ids."""

    async def start(
        self,
        room_id: int,
        start_time: datetime,
        duration_seconds: int,
        deadline: datetime,
        problems: list[int],
        participants: list[int],
    ) -> dict[tuple[int, int], int]:
        """Mark the room ACTIVE and create the participant-problem rows; returns their ids."""

    async def add_submission(
        self, room_id: int, user_id: int, question_id: int, language_id: int, code: str, created_at: datetime
    ) -> int:
        """Store a PENDING submission (committed before this returns); its id."""

    async def submission_code(self, submission_ids: list[int]) -> dict[int, str]:
        """The code of these submissions, to hand them to the judge again after a crash."""

    async def record_verdict(
        self,
        room_id: int,
        submission_id: int,
        verdict: Verdict,
        judged_at: datetime,
        standing: ProblemStanding | None,
    ) -> bool:
        """Store a final verdict and the standing it leads to; False if the submission was already judged."""

    async def finish(self, room_id: int, end_time: datetime, results: list[HistoryEntry]) -> None:
        """Mark the room FINISHED, write one history row per participant, free the members."""

"""What a room is made of, as plain data: what the store loads and the room keeps in memory."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from judge.verdicts import Status, Verdict


@dataclass
class SubmissionRecord:
    id: int
    user_id: int
    question_id: int
    language_id: int
    created_at: datetime
    status: Status = Status.IN_QUEUE
    time: float | None = None
    memory: int | None = None
    compile_output: str | None = None
    judged_at: datetime | None = None

    @property
    def judged(self) -> bool:
        return self.status.final

    def apply(self, verdict: Verdict, judged_at: datetime) -> None:
        self.status = verdict.status
        self.judged_at = judged_at
        self.time = verdict.time
        self.memory = verdict.memory
        self.compile_output = verdict.compile_output


@dataclass
class RoomRecord:
    id: int
    host_user_id: int
    password: str
    status: str = "WAITING"
    created_at: datetime | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    duration_seconds: int | None = None
    deadline: datetime | None = None
    participants: list[int] = field(default_factory=list)
    """User ids in join order; the host first."""
    problems: list[int] = field(default_factory=list)
    """Question ids in the order they were drawn."""
    problem_row_ids: dict[tuple[int, int], int] = field(default_factory=dict)
    """(user id, question id) → the participant_problems row id the seed's JSON shows as `id`."""
    submissions: list[SubmissionRecord] = field(default_factory=list)


@dataclass(frozen=True)
class HistoryEntry:
    user_id: int
    solved: int
    penalty: int
    result: str

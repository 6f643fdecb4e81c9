"""Standings, leaderboard and result, derived from the submissions alone.

Deriving everything from the list of verdicts (rather than bumping counters as verdicts
arrive) makes the order in which verdicts come back irrelevant and applying one twice a
no-op. A problem is solved by its first Accepted submission (by submission order); the
attempts before it that were judged and not Accepted are the wrong attempts (Internal Error
is the server's fault and is not counted). The seed's penalty for a solved problem is
wrong attempts x 600 + whole seconds from the start to the accepted submission; its time
is when it was submitted, so judging latency costs nobody points. Verdicts that arrive
after the room finished are kept with their submissions but count for nothing: the board
stays the one the result was computed from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from actors.contest.records import HistoryEntry, RoomRecord, SubmissionRecord
from judge.verdicts import Status


def epoch_ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


@dataclass(frozen=True)
class ProblemStanding:
    user_id: int
    question_id: int
    attempts: int
    penalty: int
    solved: bool
    solved_at: datetime | None


@dataclass(frozen=True)
class LeaderboardRow:
    user_id: int
    solved: int
    penalty: int
    last_solved_time: int | None
    rank: int

    @property
    def key(self) -> tuple:
        return (-self.solved, self.penalty, self.last_solved_time if self.last_solved_time is not None else 2**63)


def standing(
    user_id: int,
    question_id: int,
    submissions: list[SubmissionRecord],
    start_time: datetime | None,
    wrong_attempt_penalty: int,
    ended_at: datetime | None = None,
) -> ProblemStanding:
    wrong = 0
    for submission in sorted(submissions, key=lambda s: s.id):
        if not submission.judged or submission.status is Status.INTERNAL_ERROR:
            continue
        if ended_at is not None and submission.judged_at is not None and submission.judged_at > ended_at:
            continue
        if submission.status is Status.ACCEPTED:
            elapsed = int((submission.created_at - start_time).total_seconds()) if start_time else 0
            penalty = wrong * wrong_attempt_penalty + max(0, elapsed)
            return ProblemStanding(user_id, question_id, wrong + 1, penalty, True, submission.created_at)
        wrong += 1
    return ProblemStanding(user_id, question_id, wrong, 0, False, None)


def standings(room: RoomRecord, wrong_attempt_penalty: int) -> dict[int, list[ProblemStanding]]:
    """Each participant's standing on each of the room's problems, in problem order."""
    by_cell: dict[tuple[int, int], list[SubmissionRecord]] = {}
    for submission in room.submissions:
        by_cell.setdefault((submission.user_id, submission.question_id), []).append(submission)
    return {
        user_id: [
            standing(
                user_id,
                question_id,
                by_cell.get((user_id, question_id), []),
                room.start_time,
                wrong_attempt_penalty,
                room.end_time,
            )
            for question_id in room.problems
        ]
        for user_id in room.participants
    }


def leaderboard(table: dict[int, list[ProblemStanding]]) -> list[LeaderboardRow]:
    """Solved desc, penalty asc, last solved time asc; equal keys share a rank (1, 1, 3)."""
    unranked = []
    for user_id, problems in table.items():
        solved = [p for p in problems if p.solved]
        last = max((epoch_ms(p.solved_at) for p in solved), default=None)
        unranked.append(LeaderboardRow(user_id, len(solved), sum(p.penalty for p in solved), last, 0))
    unranked.sort(key=lambda row: (row.key, row.user_id))
    ranked: list[LeaderboardRow] = []
    for position, row in enumerate(unranked, start=1):
        rank = ranked[-1].rank if ranked and ranked[-1].key == row.key else position
        ranked.append(LeaderboardRow(row.user_id, row.solved, row.penalty, row.last_solved_time, rank))
    return ranked


def outcome(board: list[LeaderboardRow]) -> tuple[int | None, str]:
    """(winner user id, "WIN") or (None, "DRAW") when the top of the board is tied."""
    if not board or (len(board) > 1 and board[0].key == board[1].key):
        return None, "DRAW"
    return board[0].user_id, "WIN"


def history(board: list[LeaderboardRow]) -> list[HistoryEntry]:
    """One entry per participant: solved, penalty and WIN, LOSS or DRAW."""
    winner, result = outcome(board)
    rows = []
    for row in board:
        if result == "DRAW":
            verdict = "DRAW" if row.key == board[0].key else "LOSS"
        else:
            verdict = "WIN" if row.user_id == winner else "LOSS"
        rows.append(HistoryEntry(row.user_id, row.solved, row.penalty, verdict))
    return rows

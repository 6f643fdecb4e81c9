"""Standings and ranking derived from submissions, whatever order their verdicts came in."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from actors.contest.records import RoomRecord, SubmissionRecord
from actors.contest.scoring import history, leaderboard, outcome, standings
from judge.verdicts import Status

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def submission(sid, user, question, status, after_seconds, judged_after=None):
    at = START + timedelta(seconds=after_seconds)
    judged = at + timedelta(seconds=judged_after if judged_after is not None else 1)
    return SubmissionRecord(sid, user, question, 71, at, status, judged_at=judged)


def room(submissions, participants=(1, 2), problems=(10, 20), end_time=None):
    return RoomRecord(
        id=1,
        host_user_id=participants[0],
        password="p",
        status="ACTIVE",
        start_time=START,
        participants=list(participants),
        problems=list(problems),
        submissions=submissions,
        end_time=end_time,
    )


def test_wrong_attempts_before_the_first_accept_cost_600_each():
    subs = [
        submission(1, 1, 10, Status.WRONG_ANSWER, 10),
        submission(2, 1, 10, Status.COMPILATION_ERROR, 20),
        submission(3, 1, 10, Status.INTERNAL_ERROR, 25),  # the server's fault: not counted
        submission(4, 1, 10, Status.ACCEPTED, 61.9),
        submission(5, 1, 10, Status.WRONG_ANSWER, 70),  # after solving: ignored
        submission(6, 1, 20, Status.WRONG_ANSWER, 80),  # unsolved problems cost nothing
    ]
    table = standings(room(subs), 600)
    first, second = table[1]
    assert (first.solved, first.attempts, first.penalty) == (True, 3, 2 * 600 + 61)
    assert first.solved_at == START + timedelta(seconds=61.9)
    assert (second.solved, second.attempts, second.penalty) == (False, 1, 0)
    assert [row.penalty for row in leaderboard(table) if row.user_id == 1] == [1261]


def test_verdict_order_does_not_matter():
    subs = [
        submission(1, 1, 10, Status.WRONG_ANSWER, 5),
        submission(2, 1, 10, Status.ACCEPTED, 50),
        submission(3, 2, 10, Status.ACCEPTED, 40),
        submission(4, 2, 20, Status.TIME_LIMIT_EXCEEDED, 45),
    ]
    boards = {
        tuple((row.user_id, row.penalty, row.rank) for row in leaderboard(standings(room(list(order)), 600)))
        for order in itertools.permutations(subs)
    }
    assert boards == {((2, 40, 1), (1, 650, 2))}


def test_ranking_keys_and_shared_ranks():
    subs = [
        submission(1, 1, 10, Status.ACCEPTED, 100),
        submission(2, 2, 10, Status.ACCEPTED, 100),
        submission(3, 3, 10, Status.ACCEPTED, 30),
        submission(4, 3, 20, Status.ACCEPTED, 90),
    ]
    board = leaderboard(standings(room(subs, participants=(1, 2, 3, 4)), 600))
    assert [(row.user_id, row.solved, row.rank) for row in board] == [(3, 2, 1), (1, 1, 2), (2, 1, 2), (4, 0, 4)]
    assert board[-1].last_solved_time is None


def test_equal_penalty_breaks_on_last_solved_time():
    subs = [
        submission(1, 1, 10, Status.WRONG_ANSWER, 1),
        submission(2, 1, 10, Status.ACCEPTED, 10),  # 600 + 10
        submission(3, 2, 10, Status.ACCEPTED, 610),  # 610, solved later
    ]
    board = leaderboard(standings(room(subs), 600))
    assert [(row.user_id, row.penalty, row.rank) for row in board] == [(1, 610, 1), (2, 610, 2)]
    assert outcome(board) == (1, "WIN")
    assert [(entry.user_id, entry.result) for entry in history(board)] == [(1, "WIN"), (2, "LOSS")]


def test_a_full_tie_is_a_draw_for_both():
    subs = [submission(1, 1, 10, Status.ACCEPTED, 30), submission(2, 2, 20, Status.ACCEPTED, 30)]
    board = leaderboard(standings(room(subs), 600))
    assert [row.rank for row in board] == [1, 1]
    assert outcome(board) == (None, "DRAW")
    assert {entry.result for entry in history(board)} == {"DRAW"}


def test_verdicts_judged_after_the_end_are_not_counted():
    end = START + timedelta(seconds=600)
    subs = [submission(1, 1, 10, Status.ACCEPTED, 590, judged_after=30)]
    assert standings(room(subs, end_time=end), 600)[1][0].solved is False
    assert standings(room(subs), 600)[1][0].solved is True

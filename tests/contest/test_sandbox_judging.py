"""A contest room judged by the real sandbox: the room finds the question's tests in the database."""

from __future__ import annotations

import asyncio

import pytest

from actors.contest.messages import GetState, Join, Start, Submit
from actors.contest.room import ContestRoom
from actors.context import ActorContext
from judge.backends import SandboxJudge
from judge.dispatch import JudgeQueue
from judge.runner import SandboxRunner

ECHO = "print(input())"


async def test_room_verdicts_come_from_the_sandbox(contest):
    probe = SandboxRunner()
    if not probe.available(71):
        pytest.skip(f"sandbox judge unavailable: {probe.reason(71)}")
    probe.close()
    judge = SandboxJudge()
    room_id = await contest.create("ada")
    queue = JudgeQueue(judge, concurrency=2, queue_limit=8)
    room = ContestRoom(
        f"room:{room_id}", ActorContext(contest.clock, contest.events), contest.store, queue, contest.rules
    )
    ada, brian = contest.users["ada"], contest.users["brian"]
    await room.ask(Join(brian, "1234"))
    await room.ask(Start(ada))
    problem = (await room.ask(GetState()))["problems"][str(ada)][0]["problemId"]

    await room.ask(Submit(brian, problem, 71, "print(2)"))
    await room.ask(Submit(brian, problem, 71, ECHO))
    await room.ask(Submit(brian, problem, 50, "int main( {"))
    for _ in range(600):
        if len(contest.events.of_type("VERDICT")) == 3:
            break
        await asyncio.sleep(0.05)
    verdicts = {v["submissionId"]: v["status"]["description"] for v in contest.events.of_type("VERDICT")}
    assert sorted(verdicts.values()) == ["Accepted", "Compilation Error", "Wrong Answer"]
    board = (await room.ask(GetState()))["leaderboard"]
    assert board[0]["userId"] == brian and board[0]["solved"] == 1
    room.timers.cancel_all()
    (await judge.runner()).close()

"""The contest room as a plain object on a fake clock, writing through to a real database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from actors.clock import iso_utc
from actors.contest.errors import Conflict, NotAllowed, RateLimited, RoomNotFound, RuleBroken, Unavailable
from actors.contest.messages import ApplyVerdict, End, GetState, Join, Start, Submit
from actors.contest.rules import ContestRules
from judge.dispatch import JudgeQueue
from judge.verdicts import Status, Verdict
from persistence.models import ContestHistory, ParticipantProblem, Room, RoomMembership, Submission

ACCEPTED = "print('ACCEPT')"
WRONG = "print('nope')"


async def active_room(contest, host="ada", guest="brian"):
    """A started room between `host` and `guest`; returns (room actor, room id)."""
    room_id = await contest.create(host)
    room = contest.room(room_id)
    assert await contest.ask(room, Join(contest.users[guest], "1234")) == "Joined successfully"
    assert await contest.ask(room, Start(contest.users[host])) == "Contest started"
    return room, room_id


async def expect(error_type, message, awaitable):
    with pytest.raises(error_type) as raised:
        await awaitable
    assert str(raised.value) == message
    return raised.value


async def test_join_rules_and_messages(contest):
    ada, brian, chen, dana = (contest.users[name] for name in ("ada", "brian", "chen", "dana"))
    room_id = await contest.create("ada", password="4321")
    room = contest.room(room_id)

    await expect(NotAllowed, "Wrong Password", room.ask(Join(brian, "1234")))
    await expect(Conflict, "User already in this room", room.ask(Join(ada, "4321")))
    assert await room.ask(Join(brian, "4321")) == "Joined successfully"
    await expect(Conflict, "Room is full", room.ask(Join(chen, "4321")))

    other = contest.room(await contest.create("dana", password="1111"))
    await expect(Conflict, "User already in another active room", other.ask(Join(brian, "1111")))
    assert await other.ask(Join(chen, "1111")) == "Joined successfully"

    state = await room.ask(GetState())
    assert state["participants"] == [ada, brian]
    assert state["room"] == {
        "id": room_id,
        "hostUserId": ada,
        "password": "4321",
        "status": "WAITING",
        "startTime": None,
        "endTime": None,
        "duration": None,
    }
    async with contest.sessions() as session:
        members = dict((await session.execute(select(RoomMembership.user_id, RoomMembership.room_id))).all())
    assert members == {ada: room_id, brian: room_id, dana: other.room_id, chen: other.room_id}


async def test_room_pin_brute_force_is_bounded_per_room_over_every_guesser(contest):
    """5 wrong PINs per minute per room, whoever guesses: ≤ 50 of 10,000 four-digit PINs in 10 minutes.
    While locked even the right PIN is refused (a guess must learn nothing); the lock slides away."""
    brian, chen, dana = (contest.users[name] for name in ("brian", "chen", "dana"))
    room = contest.room(await contest.create("ada", password="0042"))
    for guess in range(5):
        await expect(NotAllowed, "Wrong Password", room.ask(Join(chen if guess % 2 else dana, f"{guess:04d}")))
        await contest.clock.advance(1)
    message = "Too many wrong passwords for this room; retry shortly"
    locked = await expect(RateLimited, message, room.ask(Join(brian, "0042")))
    assert locked.retry_after == pytest.approx(55.0)
    await contest.clock.advance(55)
    assert await room.ask(Join(brian, "0042")) == "Joined successfully"


async def test_unknown_room_is_looked_up_again_once_it_exists(contest):
    async with contest.sessions() as session:
        next_id = (await session.scalar(select(func.max(Room.id))) or 0) + 1
    room = contest.room(next_id)
    await expect(RoomNotFound, "Room not found", room.ask(GetState()))
    assert room.retiring  # the host drops it: unknown ids cannot fill a host
    assert await contest.create("ada") == next_id
    assert (await room.ask(GetState()))["room"]["id"] == next_id
    assert not room.retiring


async def test_start_rules(contest):
    ada, brian = contest.users["ada"], contest.users["brian"]
    room_id = await contest.create("ada")
    room = contest.room(room_id)
    await expect(NotAllowed, "Only host can start the contest", room.ask(Start(brian)))
    await expect(RuleBroken, "Need exactly 2 players to start", room.ask(Start(ada)))
    await room.ask(Join(brian, "1234"))

    greedy = contest.room(room_id, ContestRules(problem_count=5))
    await expect(RuleBroken, "Not enough problems in DB", greedy.ask(Start(ada)))

    assert await contest.ask(room, Start(ada)) == "Contest started"
    await expect(RuleBroken, "Room already started or finished", room.ask(Start(ada)))

    state = await room.ask(GetState())
    drawn = [cell["problemId"] for cell in state["problems"][str(ada)]]
    assert len(drawn) == 3 and len(set(drawn)) == 3 and set(drawn) <= set(contest.judgeable)
    assert state["room"]["status"] == "ACTIVE"
    assert state["room"]["duration"] == 10
    assert state["room"]["startTime"] == iso_utc(contest.clock.now())
    started = contest.events.of_type("STARTED")
    assert started and started[0]["problems"] == drawn
    async with contest.sessions() as session:
        stored = await session.get(Room, room_id)
        assert stored.deadline == contest.clock.now() + timedelta(seconds=600)
        cells = await session.scalar(select(func.count()).select_from(ParticipantProblem))
    assert cells == 6


async def test_problems_are_drawn_at_random(contest):
    """Not "the first 3": over a few rooms, more than 3 distinct problems show up."""
    seen = set()
    for pair in (("ada", "brian"), ("chen", "dana")) * 4:
        room, _ = await active_room(contest, *pair)
        cells = (await room.ask(GetState()))["problems"][str(contest.users[pair[0]])]
        seen |= {cell["problemId"] for cell in cells}
        await room.ask(End(contest.users[pair[0]]))
    assert len(seen) == 4


async def test_submit_rules(contest):
    ada, brian, chen = contest.users["ada"], contest.users["brian"], contest.users["chen"]
    room_id = await contest.create("ada")
    room = contest.room(room_id)
    await room.ask(Join(brian, "1234"))
    await expect(RuleBroken, "Contest not active", room.ask(Submit(ada, contest.judgeable[0], 71, ACCEPTED)))
    await room.ask(Start(ada))
    problem = (await room.ask(GetState()))["problems"][str(ada)][0]["problemId"]
    await expect(NotAllowed, "User not in room", room.ask(Submit(chen, problem, 71, ACCEPTED)))
    drawn = [cell["problemId"] for cell in (await room.ask(GetState()))["problems"][str(ada)]]
    outside = next(q for q in contest.judgeable if q not in drawn)
    await expect(RuleBroken, "Invalid problem", room.ask(Submit(ada, outside, 71, ACCEPTED)))

    submission_id = await contest.ask(room, Submit(ada, problem, 71, WRONG))
    async with contest.sessions() as session:
        stored = await session.get(Submission, submission_id)
    assert (stored.user_id, stored.question_id, stored.language_id, stored.code) == (ada, problem, 71, WRONG)


async def test_rate_limit_is_per_user_and_slides(contest):
    ada, brian = contest.users["ada"], contest.users["brian"]
    room, _ = await active_room(contest)
    problem = (await room.ask(GetState()))["problems"][str(ada)][0]["problemId"]
    for _ in range(5):
        await room.ask(Submit(ada, problem, 71, WRONG))
        await contest.clock.advance(1)
    limited = await expect(
        RateLimited, "Too many submissions. Please slow down.", room.ask(Submit(ada, problem, 71, WRONG))
    )
    assert limited.retry_after == pytest.approx(5.0)
    assert await room.ask(Submit(brian, problem, 71, WRONG)) > 0
    await contest.clock.advance(5)
    assert await room.ask(Submit(ada, problem, 71, WRONG)) > 0


async def test_wrong_then_right_scores_the_seed_penalty(contest):
    ada, brian = contest.users["ada"], contest.users["brian"]
    room, room_id = await active_room(contest)
    first, second, _ = [cell["problemId"] for cell in (await room.ask(GetState()))["problems"][str(ada)]]
    start_ms = int(contest.clock.now().timestamp() * 1000)

    await contest.clock.advance(30)
    await contest.ask(room, Submit(ada, first, 71, WRONG))
    await contest.clock.advance(45)
    await contest.ask(room, Submit(ada, first, 71, ACCEPTED))
    await contest.clock.advance(100)
    await contest.ask(room, Submit(brian, second, 71, ACCEPTED))

    state = await room.ask(GetState())
    assert state["leaderboard"] == [
        {"userId": brian, "solved": 1, "penalty": 175, "lastSolvedTime": start_ms + 175_000, "rank": 1},
        {"userId": ada, "solved": 1, "penalty": 600 + 75, "lastSolvedTime": start_ms + 75_000, "rank": 2},
    ]
    ada_first = state["problems"][str(ada)][0]
    assert ada_first | {"id": None} == {
        "id": None,
        "userId": ada,
        "roomId": room_id,
        "problemId": first,
        "attempts": 2,
        "penalty": 675,
        "solved": True,
        "solvedAt": start_ms + 75_000,
    }
    assert ada_first["id"] is not None
    verdicts = contest.events.of_type("VERDICT")
    assert [(v["userId"], v["status"]["description"]) for v in verdicts] == [
        (ada, "Wrong Answer"),
        (ada, "Accepted"),
        (brian, "Accepted"),
    ]
    async with contest.sessions() as session:
        cell = await session.scalar(
            select(ParticipantProblem).where(ParticipantProblem.user_id == ada, ParticipantProblem.question_id == first)
        )
    assert (cell.attempts, cell.penalty, cell.solved) == (2, 675, True)

    assert await room.ask(End(ada)) == {"winnerUserId": brian, "result": "WIN"}
    async with contest.sessions() as session:
        rows = (
            await session.execute(
                select(
                    ContestHistory.user_id, ContestHistory.result, ContestHistory.solved, ContestHistory.penalty
                ).order_by(ContestHistory.user_id)
            )
        ).all()
    assert sorted(rows) == sorted([(ada, "LOSS", 1, 675), (brian, "WIN", 1, 175)])


async def test_tie_is_a_draw(contest):
    ada = contest.users["ada"]
    room, _ = await active_room(contest)
    assert await room.ask(End(ada)) == {"winnerUserId": None, "result": "DRAW"}
    assert contest.events.of_type("ENDED")[-1]["result"] == "DRAW"
    async with contest.sessions() as session:
        results = list(await session.scalars(select(ContestHistory.result)))
        members = await session.scalar(select(func.count()).select_from(RoomMembership))
    assert results == ["DRAW", "DRAW"]
    assert members == 0


async def test_end_rules(contest):
    ada, brian = contest.users["ada"], contest.users["brian"]
    room_id = await contest.create("ada")
    room = contest.room(room_id)
    await room.ask(Join(brian, "1234"))
    await expect(RuleBroken, "Contest not active", room.ask(End(ada)))
    await room.ask(Start(ada))
    await expect(NotAllowed, "Only host can end the contest", room.ask(End(brian)))
    await room.ask(End(ada))
    await expect(RuleBroken, "Contest not active", room.ask(End(ada)))
    await expect(RuleBroken, "Room already started or finished", room.ask(Start(ada)))


async def test_room_ends_itself_at_its_deadline(contest):
    ada, brian = contest.users["ada"], contest.users["brian"]
    room, room_id = await active_room(contest)
    problem = (await room.ask(GetState()))["problems"][str(ada)][0]["problemId"]
    await contest.ask(room, Submit(brian, problem, 71, ACCEPTED))
    assert not room.may_passivate()

    await contest.clock.advance(599)
    assert (await room.ask(GetState()))["room"]["status"] == "ACTIVE"
    await contest.clock.advance(1)
    state = await room.ask(GetState())
    assert state["room"]["status"] == "FINISHED"
    assert state["room"]["endTime"] is not None
    assert contest.events.of_type("ENDED")[-1] == {
        "type": "ENDED",
        "roomId": room_id,
        "winnerUserId": brian,
        "result": "WIN",
    }
    await expect(RuleBroken, "Contest not active", room.ask(Submit(ada, problem, 71, ACCEPTED)))
    assert room.may_passivate()
    async with contest.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ContestHistory)) == 2


async def test_a_verdict_applied_twice_changes_nothing(contest):
    ada = contest.users["ada"]
    room, _ = await active_room(contest)
    problem = (await room.ask(GetState()))["problems"][str(ada)][0]["problemId"]
    submission_id = await contest.ask(room, Submit(ada, problem, 71, WRONG))
    before = await room.ask(GetState())
    published = len(contest.events.published)

    again = await room.ask(ApplyVerdict(submission_id, Verdict(Status.ACCEPTED, time=0.1, memory=1)))
    assert again is False
    assert await room.ask(GetState()) == before
    assert len(contest.events.published) == published
    async with contest.sessions() as session:
        assert (await session.get(Submission, submission_id)).status_id == Status.WRONG_ANSWER


async def test_reactivated_room_keeps_its_deadline_and_rejudges_pending_work(contest):
    """A host that died is a fresh object over the same store: the state and the deadline come back."""
    ada, brian = contest.users["ada"], contest.users["brian"]
    contest.judge.delay = 3600  # the first host dies before its judge answers
    room, room_id = await active_room(contest)
    problem = (await room.ask(GetState()))["problems"][str(ada)][0]["problemId"]
    await contest.clock.advance(100)
    pending = await contest.ask(room, Submit(brian, problem, 71, ACCEPTED))
    room.timers.cancel_all()  # the dead host's timers die with it
    for task in room._judging.values():
        task.cancel()

    contest.judge.delay = 0
    await contest.clock.advance(200)
    revived = contest.room(room_id)
    state = await contest.ask(revived, GetState())
    assert state["participants"] == [ada, brian]
    assert state["room"]["status"] == "ACTIVE"
    assert pending in contest.judge.judged
    state = await revived.ask(GetState())
    assert state["leaderboard"][0]["userId"] == brian and state["leaderboard"][0]["penalty"] == 100

    await contest.clock.advance(299)
    assert (await revived.ask(GetState()))["room"]["status"] == "ACTIVE"
    await contest.clock.advance(1)
    assert (await revived.ask(GetState()))["room"]["status"] == "FINISHED"


async def test_verdicts_after_the_end_do_not_change_the_result(contest):
    ada = contest.users["ada"]
    contest.judge.delay = 3600
    room, room_id = await active_room(contest)
    problem = (await room.ask(GetState()))["problems"][str(ada)][0]["problemId"]
    late = await contest.ask(room, Submit(ada, problem, 71, ACCEPTED))
    assert await room.ask(End(ada)) == {"winnerUserId": None, "result": "DRAW"}
    await contest.clock.advance(1)
    assert await room.ask(ApplyVerdict(late, Verdict(Status.ACCEPTED))) is True
    board = (await room.ask(GetState()))["leaderboard"]
    assert [row["solved"] for row in board] == [0, 0]
    assert [row["solved"] for row in (await contest.room(room_id).ask(GetState()))["leaderboard"]] == [0, 0]
    async with contest.sessions() as session:
        assert list(await session.scalars(select(ContestHistory.result))) == ["DRAW", "DRAW"]
        assert (await session.get(Submission, late)).status_id == Status.ACCEPTED
    room.timers.cancel_all()


async def test_a_full_judge_queue_refuses_before_storing_and_costs_no_rate_limit(contest):
    ada = contest.users["ada"]
    contest.judge.delay = 3600
    contest.queue = JudgeQueue(contest.judge, concurrency=1, queue_limit=1)
    room, _ = await active_room(contest)
    problem = (await room.ask(GetState()))["problems"][str(ada)][0]["problemId"]
    await contest.ask(room, Submit(ada, problem, 71, WRONG))
    await contest.ask(room, Submit(ada, problem, 71, WRONG))
    busy = await expect(
        Unavailable, "The judge is busy. Please retry shortly.", room.ask(Submit(ada, problem, 71, WRONG))
    )
    assert busy.retry_after > 0
    async with contest.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Submission)) == 2
    assert room.submissions.remaining(ada) == 3
    assert contest.queue.admitted == 2
    for task in room._judging.values():
        task.cancel()
    room.timers.cancel_all()

"""The contest room actor: one 1v1 room's rules, clock, rate limit and judging, as a plain object.

Every accepted change is written through the store before it is answered, so a room
rebuilt from the database after its host died is the room that died: same participants,
problems, submissions and deadline. The deadline is a timer of the room's own, re-armed
from the stored deadline on activation; submissions still waiting for a verdict are handed
to the judge again. After each change the room publishes its full state on its topic
(`room:{id}`) and, for verdicts and the start and end, an event; fronts render them per viewer.
The state that counts a verdict carries `submitReceivedAt`, when a front received that
submission, so the fronts can time submit → push (kept in memory only: lost in a crash).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
from datetime import timedelta
from typing import Any

from actors.actor import Actor
from actors.contest.errors import (
    AlreadyInAnotherRoom,
    Conflict,
    NotAllowed,
    RateLimited,
    RoomNotFound,
    RuleBroken,
    Unavailable,
)
from actors.contest.messages import ApplyVerdict, Create, DeadlineReached, End, GetState, Join, Start, Submit
from actors.contest.records import RoomRecord, SubmissionRecord
from actors.contest.rules import ContestRules
from actors.contest.scoring import history, leaderboard, outcome, standing, standings
from actors.contest.store import RoomStore
from actors.contest.views import iso, leaderboard_json, problem_json, room_json
from actors.context import ActorContext
from actors.rate_limit import SlidingWindowLimiter
from judge.cases import TestCase
from judge.dispatch import JudgeBusy, JudgeQueue
from judge.interface import JudgeJob
from judge.verdicts import Status, Verdict

log = logging.getLogger("peerprep.contest")

JOINED = "Joined successfully"
ROOM = "room"
"""The key of the room's wrong-password limiter: one bound over all who guess at it."""
STARTED = "Contest started"


def room_actor_id(room_id: int) -> str:
    """The id of room `room_id`'s actor."""
    return f"room:{room_id}"


def room_topic(room_id: int) -> str:
    """The event topic room `room_id` publishes its states and events on."""
    return f"room:{room_id}"


class ContestRoom(Actor):
    def __init__(
        self, actor_id: str, context: ActorContext, store: RoomStore, judge: JudgeQueue, rules: ContestRules
    ) -> None:
        super().__init__(actor_id, context.clock)
        self.room_id = int(actor_id.partition(":")[2])
        self.events = context.events
        self.store = store
        self.judge = judge
        self.rules = rules
        self.record: RoomRecord | None = None
        self.submissions = SlidingWindowLimiter(
            rules.submissions_per_window, rules.submission_window_seconds, self.clock
        )
        self.wrong_passwords = SlidingWindowLimiter(
            rules.join_failures_per_window, rules.join_failure_window_seconds, self.clock
        )
        self.incarnation = secrets.token_hex(4)
        self.version = 0
        self._judging: dict[int, asyncio.Task] = {}
        self._received_at: dict[int, float] = {}

    # lifecycle

    async def on_activate(self) -> None:
        self.record = await self.store.load(self.room_id)
        room = self.record
        if room is None or room.status != "ACTIVE":
            return
        self.timers.at("deadline", room.deadline, DeadlineReached())
        pending = [submission.id for submission in room.submissions if not submission.judged]
        if pending:
            codes = await self.store.submission_code(pending)
            for submission in room.submissions:
                if submission.id in codes:
                    tests = await self.store.tests_of(submission.question_id)
                    self.judge.admit(force=True)
                    self._dispatch(submission, codes[submission.id], tests)

    async def on_deactivate(self) -> None:
        for task in self._judging.values():
            task.cancel()
        self._judging.clear()
        self._received_at.clear()

    def may_passivate(self) -> bool:
        """Not while the contest runs (its deadline timer must fire) or a verdict is on its way."""
        return not self._judging and (self.record is None or self.record.status != "ACTIVE")

    def stats(self) -> dict[str, float]:
        return {"active": int(self.record is not None and self.record.status == "ACTIVE")}

    async def handle(self, message: Any) -> Any:
        match message:
            case GetState():
                return self.state(await self._room())
            case Create(host_user_id, password):
                return await self._create(host_user_id, password)
            case Join(user_id, password):
                return await self._join(user_id, password)
            case Start(user_id):
                return await self._start(user_id)
            case Submit(user_id, problem_id, language_id, code, received_at):
                return await self._submit(user_id, problem_id, language_id, code, received_at)
            case ApplyVerdict(submission_id, verdict):
                return await self._apply(submission_id, verdict)
            case End(user_id):
                return await self._end(user_id)
            case DeadlineReached():
                return await self._deadline()
        raise TypeError(f"a contest room does not understand {type(message).__name__}")

    # handlers

    async def _room(self) -> RoomRecord:
        if self.record is None:
            # A room asked for before it was created: look again rather than remember "absent".
            self.record = await self.store.load(self.room_id)
            if self.record is None:
                self.retiring = True  # an unknown id must not hold a place in the host
                raise RoomNotFound()
            self.retiring = False
        return self.record

    async def _create(self, host_user_id: int, password: str) -> dict[str, Any]:
        if self.record is not None:
            raise Conflict("Room already exists")
        try:
            self.record = await self.store.create(self.room_id, host_user_id, password, self.clock.now())
        except AlreadyInAnotherRoom:
            self.retiring = True  # nothing was created: the id stays unused
            raise Conflict("User already in another active room") from None
        self.retiring = False
        return room_json(self.record)

    async def _join(self, user_id: int, password: str) -> str:
        room = await self._room()
        # Checked before the password, so a guess while the room is locked learns nothing.
        wait = self.wrong_passwords.wait(ROOM)
        if wait:
            raise RateLimited(wait, "Too many wrong passwords for this room; retry shortly")
        if not hmac.compare_digest(password.encode(), room.password.encode()):
            self.wrong_passwords.acquire(ROOM)
            raise NotAllowed("Wrong Password")
        if user_id in room.participants:
            raise Conflict("User already in this room")
        if len(room.participants) >= self.rules.players or room.status != "WAITING":
            raise Conflict("Room is full")
        try:
            await self.store.add_participant(room.id, user_id)
        except AlreadyInAnotherRoom:
            raise Conflict("User already in another active room") from None
        room.participants.append(user_id)
        self._publish_state()
        return JOINED

    async def _start(self, user_id: int) -> str:
        room = await self._room()
        if user_id != room.host_user_id:
            raise NotAllowed("Only host can start the contest")
        if room.status != "WAITING":
            raise RuleBroken("Room already started or finished")
        if len(room.participants) != self.rules.players:
            raise RuleBroken("Need exactly 2 players to start")
        problems = await self.store.pick_problems(self.rules.problem_count)
        if len(problems) < self.rules.problem_count:
            raise RuleBroken("Not enough problems in DB")
        start = self.clock.now()
        deadline = start + timedelta(seconds=self.rules.duration_seconds)
        room.problem_row_ids = await self.store.start(
            room.id, start, self.rules.duration_seconds, deadline, problems, list(room.participants)
        )
        room.status, room.start_time, room.deadline = "ACTIVE", start, deadline
        room.duration_seconds, room.problems = self.rules.duration_seconds, problems
        self.timers.at("deadline", deadline, DeadlineReached())
        self._publish_event(
            {
                "type": "STARTED",
                "roomId": room.id,
                "startTime": room_json(room)["startTime"],
                "deadline": iso(deadline),
                "problems": problems,
            }
        )
        self._publish_state()
        return STARTED

    async def _submit(
        self, user_id: int, problem_id: int, language_id: int, code: str, received_at: float | None
    ) -> int:
        room = await self._room()
        if room.status == "ACTIVE" and self.clock.now() >= room.deadline:
            await self._finish()
        if room.status != "ACTIVE":
            raise RuleBroken("Contest not active")
        if user_id not in room.participants:
            raise NotAllowed("User not in room")
        if problem_id not in room.problems:
            raise RuleBroken("Invalid problem")
        support = await self.judge.language_support()
        reason = support.get(language_id, f"language {language_id} is not supported") if support else None
        if reason is not None:
            raise RuleBroken(f"languageId {language_id} cannot be judged here: {reason}")
        tests = await self.store.tests_of(problem_id)
        try:
            self.judge.admit()
        except JudgeBusy:
            raise Unavailable("The judge is busy. Please retry shortly.") from None
        retry_after = self.submissions.acquire(user_id)
        if retry_after:
            self.judge.release()
            raise RateLimited(retry_after)
        created_at = self.clock.now()
        try:
            submission_id = await self.store.add_submission(room.id, user_id, problem_id, language_id, code, created_at)
        except BaseException:
            self.judge.release()
            raise
        submission = SubmissionRecord(submission_id, user_id, problem_id, language_id, created_at)
        room.submissions.append(submission)
        if received_at is not None:
            self._received_at[submission_id] = received_at
        self._dispatch(submission, code, tests)
        return submission_id

    async def _apply(self, submission_id: int, verdict: Verdict) -> bool:
        """Record a verdict once; a second copy of it (or a late one for a judged submission) is ignored."""
        self._judging.pop(submission_id, None)
        received_at = self._received_at.pop(submission_id, None)
        room = await self._room()
        submission = next((s for s in room.submissions if s.id == submission_id), None)
        if submission is None or submission.judged or not verdict.status.final:
            return False
        judged_at = self.clock.now()
        submission.apply(verdict, judged_at)
        result = None
        if room.status == "ACTIVE":
            cell = [
                s
                for s in room.submissions
                if (s.user_id, s.question_id) == (submission.user_id, submission.question_id)
            ]
            result = standing(
                submission.user_id,
                submission.question_id,
                cell,
                room.start_time,
                self.rules.wrong_attempt_penalty_seconds,
            )
        await self.store.record_verdict(room.id, submission_id, verdict, judged_at, result)
        self._publish_event(
            {
                "type": "VERDICT",
                "submissionId": submission_id,
                "userId": submission.user_id,
                "problemId": submission.question_id,
                "status": {"id": int(verdict.status), "description": verdict.status.description},
                "time": verdict.time,
                "memory": verdict.memory,
            },
            private={"userId": submission.user_id, "compileOutput": verdict.compile_output},
        )
        self._publish_state(received_at)
        return True

    async def _end(self, user_id: int) -> dict[str, Any]:
        room = await self._room()
        if user_id != room.host_user_id:
            raise NotAllowed("Only host can end the contest")
        if room.status != "ACTIVE":
            raise RuleBroken("Contest not active")
        return await self._finish()

    async def _deadline(self) -> None:
        room = await self._room()
        if room.status == "ACTIVE":
            await self._finish()

    async def _finish(self) -> dict[str, Any]:
        """Freeze the standings, write the history, publish ENDED. Verdicts arriving later are
        stored with their submissions but no longer change the result."""
        room = self.record
        board = leaderboard(standings(room, self.rules.wrong_attempt_penalty_seconds))
        winner, result = outcome(board)
        end_time = self.clock.now()
        await self.store.finish(room.id, end_time, history(board))
        room.status, room.end_time = "FINISHED", end_time
        self.timers.cancel("deadline")
        ended = {"winnerUserId": winner, "result": result}
        self._publish_event({"type": "ENDED", "roomId": room.id, **ended})
        self._publish_state()
        return ended

    # judging

    def _dispatch(self, submission: SubmissionRecord, code: str, tests: tuple[TestCase, ...]) -> None:
        """Hand the submission to the judge with its question's tests (the room finds them; the
        judge only runs them)."""
        job = JudgeJob(submission.id, submission.question_id, submission.language_id, code, tests)
        self._judging[submission.id] = asyncio.get_running_loop().create_task(self._judge(job))

    async def _judge(self, job: JudgeJob) -> None:
        try:
            verdict = await self.judge.judge(job)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("judging submission %s failed", job.submission_id)
            verdict = Verdict(Status.INTERNAL_ERROR)
        self.tell(ApplyVerdict(job.submission_id, verdict))

    # state and events

    def state(self, room: RoomRecord) -> dict[str, Any]:
        """Everything a front needs to render RoomStateResponse for any viewer."""
        table = standings(room, self.rules.wrong_attempt_penalty_seconds)
        return {
            "roomId": room.id,
            "incarnation": self.incarnation,
            "version": self.version,
            "room": room_json(room),
            "participants": list(room.participants),
            "problems": {str(user): [problem_json(room, cell) for cell in cells] for user, cells in table.items()},
            "leaderboard": leaderboard_json(leaderboard(table)),
        }

    def _publish_state(self, submit_received_at: float | None = None) -> None:
        self.version += 1
        published = {"type": "state", "state": self.state(self.record)}
        if submit_received_at is not None:
            published["submitReceivedAt"] = submit_received_at
        self.events.publish(room_topic(self.room_id), published)

    def _publish_event(self, event: dict[str, Any], private: dict[str, Any] | None = None) -> None:
        self.version += 1
        self.events.publish(
            room_topic(self.room_id),
            {
                "type": "event",
                "incarnation": self.incarnation,
                "version": self.version,
                "event": event,
                "private": private,
            },
        )

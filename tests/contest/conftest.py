"""A database with users and judgeable questions, and contest rooms as plain objects on a fake clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from actors.clock import FakeClock, settle
from actors.contest.messages import Create
from actors.contest.room import ContestRoom
from actors.contest.rules import ContestRules
from actors.context import ActorContext
from actors.stores.contest import SqlRoomStore
from api.contest.rooms import RoomIds
from judge.dispatch import JudgeQueue
from judge.languages import LANGUAGES
from judge.testing import DeterministicTestJudge
from persistence.bank import upsert_languages
from persistence.database import Transactions
from persistence.models import Question, TestCase, User

USERS = ("ada", "brian", "chen", "dana")


@dataclass
class RecordedEvents:
    """An event sink that keeps what a room published, in order."""

    published: list[tuple[str, Any]] = field(default_factory=list)

    def publish(self, topic: str, event: Any) -> None:
        self.published.append((topic, event))

    def of_type(self, kind: str) -> list[dict]:
        return [
            event["event"] for _, event in self.published if event["type"] == "event" and event["event"]["type"] == kind
        ]

    def states(self) -> list[dict]:
        return [event["state"] for _, event in self.published if event["type"] == "state"]


@dataclass
class Contest:
    """Rooms on one store, one fake clock, one test judge; `room(id)` is a fresh activation."""

    sessions: Any
    store: SqlRoomStore
    clock: FakeClock
    judge: DeterministicTestJudge
    events: RecordedEvents
    users: dict[str, int]
    judgeable: list[int]
    rules: ContestRules = field(default_factory=ContestRules)
    queue: JudgeQueue | None = None
    ids: RoomIds = field(default_factory=RoomIds)

    def __post_init__(self) -> None:
        self.queue = self.queue or JudgeQueue(self.judge, concurrency=4, queue_limit=16)

    def room(self, room_id: int, rules: ContestRules | None = None) -> ContestRoom:
        context = ActorContext(clock=self.clock, events=self.events)
        return ContestRoom(f"room:{room_id}", context, self.store, self.queue, rules or self.rules)

    async def create(self, host: str, password: str = "1234") -> int:
        """A WAITING room, created as the front creates one: an id reserved, then its actor asked."""
        async with self.sessions() as session:
            room_id = await self.ids.take(session)
        await self.ask(self.room(room_id), Create(self.users[host], password))
        return room_id

    async def ask(self, room: ContestRoom, message) -> Any:
        answer = await room.ask(message)
        await settle()
        return answer


@pytest.fixture
async def contest(db_sessions):
    async with db_sessions() as session:
        await upsert_languages(session, [(spec.judge0_id, spec.key, spec.name) for spec in LANGUAGES])
        people = [User(username=name, email=f"{name}@example.com", password_hash="x") for name in USERS]
        session.add_all(people)
        questions = [
            Question(
                title=f"Problem {n}",
                statement="s",
                difficulty="Easy",
                test_cases=[TestCase(ordinal=0, input="1", output="1")],
            )
            for n in range(4)
        ]
        untestable = Question(title="No tests", statement="s", difficulty="Easy")
        session.add_all([*questions, untestable])
        await session.commit()
        users = {person.username: person.id for person in people}
        judgeable = [question.id for question in questions]
    transactions = Transactions(db_sessions.kw["bind"])
    yield Contest(
        sessions=db_sessions,
        store=SqlRoomStore(db_sessions, transactions),
        clock=FakeClock(),
        judge=DeterministicTestJudge(),
        events=RecordedEvents(),
        users=users,
        judgeable=judgeable,
    )
    transactions.close()

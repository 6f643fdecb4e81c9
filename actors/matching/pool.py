"""The matchmaking pool actor: one queue of waiting requests, their expiry timers, every user's
latest status, and the match itself (a question and a collab session for the two users).

Both users hear of a match on their own topic (`match:{userId}`) — `MATCH_FOUND` — and of an
expired request — `TIMEOUT`; the front streams those as SSE. A user has at most one live
request: asking again replaces it.
"""

from __future__ import annotations

import random
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol

from actors.actor import Actor
from actors.context import ActorContext
from actors.matching.queue import MatchQueue, MatchRequest

QUESTION_REFRESH_SECONDS = 60.0


POOL_ACTOR_ID = "pool:main"
"""The one match pool's actor id."""


def user_topic(user_id: int) -> str:
    return f"match:{user_id}"


@dataclass(frozen=True)
class RequestMatch:
    user_id: int
    languages: list[str]
    difficulties: list[str]
    topics: list[str]
    ttl_seconds: float


@dataclass(frozen=True)
class GetStatus:
    user_id: int


@dataclass(frozen=True)
class Cancel:
    user_id: int


@dataclass(frozen=True)
class Expire:
    user_id: int
    seq: int


@dataclass(frozen=True)
class Signal:
    user_id: int
    room_id: str


@dataclass(frozen=True)
class RefreshQuestions:
    pass


@dataclass(frozen=True)
class JudgeableQuestion:
    id: int
    difficulty: str
    topics: frozenset[str]
    """Lower-case topic names."""


class QuestionIndex:
    """Judgeable question ids by (difficulty, topic) and by difficulty, kept by the pool so a
    match picks its question without a database round trip."""

    def __init__(self, questions: list[JudgeableQuestion]) -> None:
        self.by_both: dict[tuple[str, str], list[int]] = {}
        self.by_difficulty: dict[str, list[int]] = {}
        self.all = [question.id for question in questions]
        for question in questions:
            difficulty = question.difficulty.lower()
            self.by_difficulty.setdefault(difficulty, []).append(question.id)
            for topic in question.topics:
                self.by_both.setdefault((difficulty, topic), []).append(question.id)

    def fitting(self, difficulty: str, topic: str) -> list[int]:
        return self.by_both.get((difficulty, topic)) or self.by_difficulty.get(difficulty) or self.all


class MatchStore(Protocol):
    async def judgeable_questions(self) -> list[JudgeableQuestion]: ...

    async def create_session(
        self, user1: int, user2: int, topic: str, difficulty: str, language: str, question_id: int | None
    ) -> dict[str, Any]:
        """A new collab session for both users; its JSON (api.md's session shape)."""


class MatchPool(Actor):
    def __init__(self, actor_id: str, context: ActorContext, store: MatchStore, status_limit: int = 100_000) -> None:
        super().__init__(actor_id, context.clock)
        self.events = context.events
        self.store = store
        self.queue = MatchQueue()
        self.statuses: OrderedDict[int, dict[str, Any]] = OrderedDict()
        """Each user's latest finished status (MATCHED, CANCELLED, EXPIRED), the oldest forgotten first."""
        self.status_limit = status_limit
        self.questions = QuestionIndex([])
        self.random = random.Random()

    async def on_activate(self) -> None:
        self.questions = QuestionIndex(await self.store.judgeable_questions())
        self.timers.every("questions", QUESTION_REFRESH_SECONDS, RefreshQuestions())

    def may_passivate(self) -> bool:
        return len(self.queue) == 0

    def stats(self) -> dict[str, float]:
        return {"waiting": len(self.queue)}

    async def handle(self, message: Any) -> Any:
        match message:
            case RequestMatch():
                return await self._request(message)
            case GetStatus(user_id):
                return self.status(user_id)
            case Cancel(user_id):
                return self._cancel(user_id)
            case Expire(user_id, seq):
                return self._expire(user_id, seq)
            case Signal(user_id, room_id):
                self.events.publish(user_topic(user_id), {"type": "MATCH_FOUND", "roomId": room_id, "signal": True})
                return {"ok": True, "userId": user_id, "roomId": room_id}
            case RefreshQuestions():
                self.questions = QuestionIndex(await self.store.judgeable_questions())
                return None
        raise TypeError(f"the match pool does not understand {type(message).__name__}")

    def status(self, user_id: int) -> dict[str, Any] | None:
        position = self.queue.position(user_id)
        if position is not None:
            return {"userId": user_id, "status": "QUEUED", "position": position}
        return self.statuses.get(user_id)

    def _remember(self, user_id: int, status: dict[str, Any]) -> None:
        self.statuses.pop(user_id, None)
        self.statuses[user_id] = status
        while len(self.statuses) > self.status_limit:
            self.statuses.popitem(last=False)

    async def _request(self, message: RequestMatch) -> dict[str, Any]:
        request = MatchRequest.of(message.user_id, message.languages, message.difficulties, message.topics)
        self.queue.remove(request.user_id)
        self.timers.cancel(f"expire:{request.user_id}")
        partner = self.queue.find_partner(request)
        if partner is None:
            seq = self.queue.add(request)
            self.statuses.pop(request.user_id, None)
            self.timers.once(f"expire:{request.user_id}", message.ttl_seconds, Expire(request.user_id, seq))
            return {"status": "queued", "userId": request.user_id, "position": self.queue.position(request.user_id)}
        self.queue.remove(partner.user_id)
        self.timers.cancel(f"expire:{partner.user_id}")
        language, difficulty, topic = partner.common(request)
        question_id = self._pick_question(difficulty, topic)
        session = await self.store.create_session(
            partner.user_id, request.user_id, topic, difficulty, language, question_id
        )
        match = {"roomId": session["id"], "topic": topic, "difficulty": difficulty, "language": language,
                 "questionId": question_id}  # fmt: skip
        for me, other in ((request.user_id, partner.user_id), (partner.user_id, request.user_id)):
            self._remember(me, {"userId": me, "status": "MATCHED", "match": {**match, "partnerId": other}})
            self.events.publish(user_topic(me), {"type": "MATCH_FOUND", **match, "partnerId": other})
        return {"status": "matched", **match, "userId": request.user_id, "partnerId": partner.user_id,
                "session": session}  # fmt: skip

    def _pick_question(self, difficulty: str, topic: str) -> int | None:
        """A random judgeable question of that difficulty and topic, else of that difficulty, else any."""
        fitting = self.questions.fitting(difficulty.lower(), topic.lower())
        return self.random.choice(fitting) if fitting else None

    def _cancel(self, user_id: int) -> dict[str, Any]:
        if self.queue.remove(user_id) is not None:
            self.timers.cancel(f"expire:{user_id}")
            self._remember(user_id, {"userId": user_id, "status": "CANCELLED"})
        return {"userId": user_id, "status": "CANCELLED"}

    def _expire(self, user_id: int, seq: int) -> None:
        if self.queue.seq_of(user_id) != seq:
            return  # replaced, matched or cancelled since
        self.queue.remove(user_id)
        self._remember(user_id, {"userId": user_id, "status": "EXPIRED"})
        self.events.publish(user_topic(user_id), {"type": "TIMEOUT"})

"""The match queue and pool as plain objects on a fake clock."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest

from actors.clock import FakeClock, settle
from actors.context import ActorContext
from actors.matching.pool import Cancel, GetStatus, JudgeableQuestion, MatchPool, RequestMatch, Signal, user_topic
from actors.matching.queue import MatchQueue, MatchRequest
from tests.contest.conftest import RecordedEvents


@dataclass
class SessionsMade:
    """Our own seam's double: records the sessions the pool asks for."""

    questions: list[JudgeableQuestion] = field(default_factory=list)
    made: list[tuple] = field(default_factory=list)
    ids: itertools.count = field(default_factory=itertools.count)

    async def judgeable_questions(self):
        return list(self.questions)

    async def create_session(self, user1, user2, topic, difficulty, language, question_id):
        self.made.append((user1, user2, topic, difficulty, language, question_id))
        return {"id": f"sess-{next(self.ids)}", "user1ID": str(user1), "user2ID": str(user2)}


def req(user, languages=("python",), difficulties=("Easy",), topics=("Arrays",)):
    return MatchRequest.of(user, list(languages), list(difficulties), list(topics))


def test_oldest_compatible_request_wins():
    queue = MatchQueue()
    queue.add(req(1, topics=("Graphs",)))
    queue.add(req(2, topics=("Arrays", "Strings")))
    queue.add(req(3, topics=("Arrays",)))
    assert queue.find_partner(req(9, topics=("arrays",))).user_id == 2
    assert queue.find_partner(req(9, topics=("Graphs", "Arrays"))).user_id == 1
    assert queue.find_partner(req(9, languages=("java",))) is None
    assert [queue.position(u) for u in (1, 2, 3)] == [1, 2, 3]
    queue.remove(1)
    assert [queue.position(u) for u in (2, 3)] == [1, 2] and queue.position(1) is None


def test_all_three_sets_must_intersect_and_the_first_common_value_is_taken():
    waiting = req(1, languages=("Java", "Python"), difficulties=("Medium", "Easy"), topics=("Graphs", "Arrays"))
    newcomer = req(2, languages=("python",), difficulties=("easy", "medium"), topics=("arrays", "graphs"))
    assert waiting.compatible(newcomer)
    assert waiting.common(newcomer) == ("Python", "Medium", "Graphs")
    assert not waiting.compatible(req(3, languages=("python",), difficulties=("Hard",), topics=("Graphs",)))


def test_a_user_never_matches_themselves_and_asking_again_replaces():
    queue = MatchQueue()
    queue.add(req(1))
    assert queue.find_partner(req(1)) is None
    queue.add(req(1, topics=("Graphs",)))
    assert len(queue) == 1 and queue.find_partner(req(2)) is None


def test_candidates_scanned_are_the_smallest_dimension_not_the_queue():
    queue = MatchQueue()
    for user in range(1000):
        queue.add(req(user, languages=("python",), topics=(f"t{user}",)))
    queue.add(req(5000, languages=("python",), topics=("rare",)))
    assert queue.find_partner(req(9999, topics=("rare",))).user_id == 5000


@pytest.fixture
def pool_env():
    clock, events, store = FakeClock(), RecordedEvents(), SessionsMade()
    store.questions = [
        JudgeableQuestion(1, "Easy", frozenset({"arrays"})),
        JudgeableQuestion(2, "Medium", frozenset({"graphs"})),
    ]
    pool = MatchPool("pool:main", ActorContext(clock, events), store)
    return pool, clock, events, store


async def test_match_creates_one_session_and_notifies_both(pool_env):
    pool, _, events, store = pool_env
    queued = await pool.ask(RequestMatch(1, ["Python"], ["Easy"], ["Arrays"], 60))
    assert queued == {"status": "queued", "userId": 1, "position": 1}
    assert await pool.ask(GetStatus(1)) == {"userId": 1, "status": "QUEUED", "position": 1}
    matched = await pool.ask(RequestMatch(2, ["python", "java"], ["Easy"], ["Arrays", "Graphs"], 60))
    assert matched["status"] == "matched" and (matched["userId"], matched["partnerId"]) == (2, 1)
    assert (matched["language"], matched["difficulty"], matched["topic"], matched["questionId"]) == (
        "Python",
        "Easy",
        "Arrays",
        1,
    )
    assert store.made == [(1, 2, "Arrays", "Easy", "Python", 1)]
    found = {topic: event for topic, event in events.published}
    assert found[user_topic(1)]["partnerId"] == 2 and found[user_topic(2)]["partnerId"] == 1
    assert found[user_topic(1)]["type"] == "MATCH_FOUND" and found[user_topic(1)]["roomId"] == matched["roomId"]
    status = await pool.ask(GetStatus(1))
    assert status["status"] == "MATCHED" and status["match"]["partnerId"] == 2
    assert pool.may_passivate()


async def test_expiry_by_the_pools_own_timer_and_cancel(pool_env):
    pool, clock, events, _ = pool_env
    await pool.ask(RequestMatch(1, ["python"], ["Easy"], ["Arrays"], 30))
    await pool.ask(RequestMatch(2, ["java"], ["Easy"], ["Arrays"], 100))
    assert not pool.may_passivate()
    await clock.advance(29.9)
    assert (await pool.ask(GetStatus(1)))["status"] == "QUEUED"
    await clock.advance(0.1)
    await settle()
    assert await pool.ask(GetStatus(1)) == {"userId": 1, "status": "EXPIRED"}
    assert events.published[-1] == (user_topic(1), {"type": "TIMEOUT"})
    assert (await pool.ask(GetStatus(2)))["position"] == 1

    assert await pool.ask(Cancel(2)) == {"userId": 2, "status": "CANCELLED"}
    assert await pool.ask(GetStatus(2)) == {"userId": 2, "status": "CANCELLED"}
    await clock.advance(200)
    assert (await pool.ask(GetStatus(2)))["status"] == "CANCELLED"  # the old timer found nothing to expire
    assert await pool.ask(GetStatus(3)) is None


async def test_a_replaced_request_keeps_only_the_new_timer(pool_env):
    pool, clock, _, _ = pool_env
    await pool.ask(RequestMatch(1, ["python"], ["Easy"], ["Arrays"], 10))
    await clock.advance(5)
    await pool.ask(RequestMatch(1, ["python"], ["Easy"], ["Graphs"], 10))
    await clock.advance(6)
    assert (await pool.ask(GetStatus(1)))["status"] == "QUEUED"
    await clock.advance(4)
    assert (await pool.ask(GetStatus(1)))["status"] == "EXPIRED"


async def test_cancel_racing_a_match_leaves_one_outcome(pool_env):
    pool, _, _, store = pool_env
    await pool.ask(RequestMatch(1, ["python"], ["Easy"], ["Arrays"], 60))
    both = [pool.ask(Cancel(1)), pool.ask(RequestMatch(2, ["python"], ["Easy"], ["Arrays"], 60))]
    cancelled, second = [await future for future in both]
    assert cancelled["status"] == "CANCELLED" and second["status"] == "queued"
    assert store.made == []


async def test_question_falls_back_to_the_difficulty_then_any(pool_env):
    pool, _, _, _ = pool_env
    await pool.ask(RequestMatch(1, ["python"], ["Medium"], ["Strings"], 60))
    matched = await pool.ask(RequestMatch(2, ["python"], ["Medium"], ["Strings"], 60))
    assert matched["questionId"] == 2
    await pool.ask(RequestMatch(3, ["python"], ["Hard"], ["Strings"], 60))
    assert (await pool.ask(RequestMatch(4, ["python"], ["Hard"], ["Strings"], 60)))["questionId"] in (1, 2)


async def test_signal_publishes_on_the_users_topic(pool_env):
    pool, _, events, _ = pool_env
    assert await pool.ask(Signal(7, "room789")) == {"ok": True, "userId": 7, "roomId": "room789"}
    assert events.published[-1] == (user_topic(7), {"type": "MATCH_FOUND", "roomId": "room789", "signal": True})

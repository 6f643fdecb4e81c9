"""Waiting match requests, indexed so that finding a partner costs the candidates, not the queue.

Two requests match when their language, difficulty and topic sets all intersect; among the
compatible waiting requests the oldest wins (FIFO). Each dimension keeps value → requests in
arrival order; a new request scans only the buckets of the dimension where it has the fewest
candidates, oldest first, and checks the other two dimensions with set intersections.
"""

from __future__ import annotations

import bisect
import heapq
from dataclasses import dataclass

DIMENSIONS = ("languages", "difficulties", "topics")


@dataclass(frozen=True)
class MatchRequest:
    user_id: int
    languages: frozenset[str]
    difficulties: frozenset[str]
    topics: frozenset[str]
    order: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]] = ((), (), ())
    """Each dimension's values as the user listed them; the match takes the first common one."""

    @classmethod
    def of(cls, user_id: int, languages: list[str], difficulties: list[str], topics: list[str]) -> MatchRequest:
        """Values compare case-insensitively; the first spelling of each is kept for display."""
        lists, sets = [], []
        for values in (languages, difficulties, topics):
            spelled: dict[str, str] = {}
            for value in values:
                value = value.strip()
                if value:
                    spelled.setdefault(value.lower(), value)
            lists.append(tuple(spelled.values()))
            sets.append(frozenset(spelled))
        return cls(user_id, *sets, order=tuple(lists))

    def values(self, dimension: str) -> frozenset[str]:
        return getattr(self, dimension)

    def compatible(self, other: MatchRequest) -> bool:
        return (
            not self.languages.isdisjoint(other.languages)
            and not self.difficulties.isdisjoint(other.difficulties)
            and not self.topics.isdisjoint(other.topics)
        )

    def common(self, other: MatchRequest) -> tuple[str, ...]:
        """The first value of each dimension, in this request's order and spelling, that `other` also has."""
        chosen = []
        for ordered, theirs in zip(self.order, (other.languages, other.difficulties, other.topics), strict=True):
            for value in ordered:
                if value.lower() in theirs:
                    chosen.append(value)
                    break
        return tuple(chosen)


class MatchQueue:
    def __init__(self) -> None:
        self._next_seq = 0
        self._waiting: dict[int, tuple[int, MatchRequest]] = {}
        """user id → (arrival number, request)"""
        self._order: list[int] = []
        """arrival numbers of waiting requests, ascending (for positions)"""
        self._index: dict[str, dict[str, dict[int, MatchRequest]]] = {d: {} for d in DIMENSIONS}
        """dimension → value → {arrival number: request}, each in arrival order"""

    def __len__(self) -> int:
        return len(self._waiting)

    def __contains__(self, user_id: int) -> bool:
        return user_id in self._waiting

    def position(self, user_id: int) -> int | None:
        """1-based place among all waiting requests, oldest first."""
        entry = self._waiting.get(user_id)
        return None if entry is None else bisect.bisect_left(self._order, entry[0]) + 1

    def seq_of(self, user_id: int) -> int | None:
        entry = self._waiting.get(user_id)
        return None if entry is None else entry[0]

    def find_partner(self, request: MatchRequest) -> MatchRequest | None:
        """The oldest waiting request compatible with `request` (from another user)."""
        best: list[dict[int, MatchRequest]] | None = None
        best_size = -1
        for dimension in DIMENSIONS:
            index = self._index[dimension]
            buckets = [index[value] for value in request.values(dimension) if value in index]
            size = sum(map(len, buckets))
            if best is None or size < best_size:
                best, best_size = buckets, size
        if not best:
            return None
        candidates = (
            iter(best[0].values()) if len(best) == 1 else (r for _, r in heapq.merge(*(b.items() for b in best)))
        )
        for candidate in candidates:
            if candidate.user_id != request.user_id and candidate.compatible(request):
                return candidate
        return None

    def add(self, request: MatchRequest) -> int:
        """Queue a request (replacing the user's earlier one); its arrival number."""
        self.remove(request.user_id)
        seq = self._next_seq
        self._next_seq += 1
        self._waiting[request.user_id] = (seq, request)
        self._order.append(seq)
        for dimension in DIMENSIONS:
            for value in request.values(dimension):
                self._index[dimension].setdefault(value, {})[seq] = request
        return seq

    def remove(self, user_id: int) -> MatchRequest | None:
        entry = self._waiting.pop(user_id, None)
        if entry is None:
            return None
        seq, request = entry
        del self._order[bisect.bisect_left(self._order, seq)]
        for dimension in DIMENSIONS:
            for value in request.values(dimension):
                bucket = self._index[dimension][value]
                del bucket[seq]
                if not bucket:
                    del self._index[dimension][value]
        return request

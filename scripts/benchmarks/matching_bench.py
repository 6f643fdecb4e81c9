"""`scripts/bench matching`: the matchmaking pool's two figures, measured in one run.

1. Matches per second inside the pool actor with 10,000 waiting requests: the real
   `MatchPool` (its mailbox, queue, indexes, timers, status book) on the event loop, with
   a session store that only counts (this measures the pool's decisions, not the database).
   Each measured request finds a partner among the 10,000, and a new waiting request
   replaces it, so the queue stays at 10,000; messages arrive 100 at a time, as a front's
   batches deliver them.
2. HTTP request → MATCH_FOUND on the waiting user's SSE stream, p50/p99: the real server
   (`peerprep serve`, embedded Ray, SQLite); one user waits with an open stream, the other
   posts a matching request; measured from sending that POST to the event's arrival.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import time
from pathlib import Path

import httpx
from reporting import finish

from actors.clock import RealClock
from actors.context import ActorContext, DiscardEvents
from actors.matching.pool import JudgeableQuestion, MatchPool, RequestMatch
from benchmarks.measure import percentile
from benchmarks.server import served

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ["python", "java", "cpp", "javascript", "c"]
DIFFICULTIES = ["Easy", "Medium", "Hard"]
TOPICS = [f"topic-{n}" for n in range(40)]


class CountingSessions:
    """A stand-in session store for the in-pool figure: counts sessions, touches no database."""

    def __init__(self) -> None:
        self.ids = itertools.count()

    async def judgeable_questions(self):
        return [JudgeableQuestion(n, DIFFICULTIES[n % 3], frozenset({TOPICS[n % 40].lower()})) for n in range(40)]

    async def create_session(self, user1, user2, topic, difficulty, language, question_id):
        return {"id": f"s{next(self.ids)}"}


async def pool_matches_per_second(waiting: int, matches: int) -> float:
    pool = MatchPool("pool:bench", ActorContext(RealClock(), DiscardEvents()), CountingSessions())
    user = itertools.count()

    # Waiting requests that never match one another: each has a topic of its own, and shares its
    # language with 2,000 others and its difficulty with 3,333 (so the indexes have work to do).
    def criteria(n: int) -> tuple[list[str], list[str], list[str]]:
        return [LANGUAGES[n % 5]], [DIFFICULTIES[n % 3]], [f"own-{n}", TOPICS[n % 40]]

    for n in range(waiting):
        own = criteria(n)
        await pool.ask(RequestMatch(next(user), own[0], own[1], own[2][:1], 3600))
    assert len(pool.queue) == waiting
    started = time.perf_counter()
    # Messages reach the pool in batches (a front sends everything queued in one tick as one
    # call), so the mailbox is fed 100 at a time, as a busy host would feed it.
    for first in range(0, matches, 50):
        pending = []
        for n in range(first, min(first + 50, matches)):
            partner_of = n % waiting
            wanted = criteria(partner_of)
            criteria_of_partner = (wanted[0], wanted[1], wanted[2][:1])
            pending.append(pool.ask(RequestMatch(next(user), *criteria_of_partner, 3600)))
            pending.append(pool.ask(RequestMatch(next(user), *criteria_of_partner, 3600)))  # refills the queue
        answers = await asyncio.gather(*pending)
        assert all(answer["status"] == "matched" for answer in answers[::2])
    elapsed = time.perf_counter() - started
    pool.timers.cancel_all()
    # Every other message is a match, the one after it an enqueue; count the matches only.
    return matches / elapsed


async def http_to_sse(base: str, samples: int) -> list[float]:
    latencies = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        for n in range(samples):
            tokens = []
            for user in (100_000 + 2 * n, 100_001 + 2 * n):
                tokens.append((await http.post("/auth/login", params={"userId": user})).json()["token"])
            waiting, arriving = 100_000 + 2 * n, 100_001 + 2 * n
            body = {"languageIn": "python", "difficultyIn": "Easy", "topicIn": f"t{n}", "ttlMs": 60000}
            await http.post("/matching/requests", json={**body, "userId": str(waiting)},
                            headers={"Authorization": f"Bearer {tokens[0]}"})  # fmt: skip
            opened = asyncio.Event()
            arrived: list[float] = []

            async def watch(token=tokens[0], user=waiting, opened=opened, arrived=arrived):
                headers = {"Authorization": f"Bearer {token}"}
                async with http.stream("GET", f"/matching/events/{user}", headers=headers) as stream:
                    async for line in stream.aiter_lines():
                        if line.startswith("event: heartbeat"):
                            opened.set()
                        elif line.startswith("event: MATCH_FOUND"):
                            arrived.append(time.perf_counter())
                            return

            watcher = asyncio.create_task(watch())
            await asyncio.wait_for(opened.wait(), 30)
            sent = time.perf_counter()
            response = await http.post("/matching/requests", json={**body, "userId": str(arriving)},
                                       headers={"Authorization": f"Bearer {tokens[1]}"})  # fmt: skip
            assert response.status_code == 200, response.text
            await asyncio.wait_for(watcher, 30)
            latencies.append((arrived[0] - sent) * 1000)
    return sorted(latencies)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--waiting", type=int, default=10_000)
    parser.add_argument("--matches", type=int, default=20_000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--json", type=Path, default=ROOT / "var" / "bench-matching.json")
    args = parser.parse_args()

    print(f"[1/2] matches inside the pool actor with {args.waiting} waiting", flush=True)
    rate = asyncio.run(pool_matches_per_second(args.waiting, args.matches))

    print(f"[2/2] HTTP request → MATCH_FOUND on SSE, {args.samples} samples, real server", flush=True)
    with served() as (base, _):
        latencies = asyncio.run(http_to_sse(base, args.samples))

    results = {
        "pool_matches_per_s": rate,
        "waiting": args.waiting,
        "sse_p50_ms": statistics.median(latencies),
        "sse_p99_ms": percentile(latencies, 0.99),
    }
    lines = [
        f"{'matches/s inside the pool actor':40} {rate:>12,.0f}   target ≥ 20,000  ({args.waiting} waiting)",
        f"{'HTTP request → MATCH_FOUND on SSE, p99':40} {results['sse_p99_ms']:>9.2f} ms   target ≤ 20 ms   "
        f"(p50 {results['sse_p50_ms']:.2f} ms, {args.samples} samples)",
    ]
    return finish(lines, results, args.json)


if __name__ == "__main__":
    sys.exit(main())

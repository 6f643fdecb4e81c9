"""Matchmaking pairs: two users with a topic of their own meet in the pool.

The first user opens its SSE stream (`GET /matching/events/{userId}`), waits for the first
heartbeat (then it is subscribed) and queues (`POST /matching/requests` → 202); after a random
wait of up to `match_wait` seconds the second user asks for the same criteria and is matched at
once (200). The match latency is from sending that second request until MATCH_FOUND arrives on
the first user's stream. The pool made a collab session for the pair; the first user ends it.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import aiohttp

from benchmarks.loadtest.context import Context
from benchmarks.loadtest.http_api import StepFailed, User
from benchmarks.loadtest.recorder import MATCH

EVENTS_ROUTE = "GET /matching/events/{userId}"


def criteria(user: User, topic: str, ttl_seconds: float) -> dict:
    return {"userId": str(user.id), "languageIn": "python", "difficultyIn": "Easy", "topicIn": topic,
            "ttlMs": int(ttl_seconds * 1000)}  # fmt: skip


async def queue_then_match(
    context: Context, first: User, second: User, topic: str, wait: float = 0.0
) -> tuple[dict, float]:
    """`first` queues, `wait` s later `second` is matched with it: (the answer, perf_counter when it asked)."""
    api, ttl = context.api, context.options.duration + 60
    await api.call("POST", "/matching/requests", "/matching/requests", user=first, json=criteria(first, topic, ttl),
                   expect=(202,))  # fmt: skip
    context.waiting_users[first.id] = first
    await asyncio.sleep(wait)
    sent = time.perf_counter()
    answer = await api.call("POST", "/matching/requests", "/matching/requests", user=second,
                            json=criteria(second, topic, ttl))  # fmt: skip
    context.waiting_users.pop(first.id, None)
    match = answer.json()
    if match.get("status") != "matched" or match.get("partnerId") != str(first.id):
        context.recorder.error("POST /matching/requests matched someone else")
        raise StepFailed("matched someone else")
    return match, sent


async def sse_events(context: Context, user: User) -> AsyncIterator[tuple[str, dict]]:
    """(event, data) from the user's SSE stream, until it ends."""
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=context.options.timeout)
    started = time.perf_counter()
    try:
        async with context.api.http.get(f"/matching/events/{user.id}", headers=user.auth, timeout=timeout) as response:
            ok = response.status == 200
            context.recorder.request(EVENTS_ROUTE, (time.perf_counter() - started) * 1000, ok)
            if not ok:
                context.recorder.error(f"HTTP {response.status} {EVENTS_ROUTE}")
                raise StepFailed("events")
            event = None
            async for raw in response.content:
                line = raw.decode().rstrip("\r\n")
                if line.startswith("event:"):
                    event = line.removeprefix("event:").strip()
                elif line.startswith("data:") and event is not None:
                    yield event, json.loads(line.removeprefix("data:"))
                    event = None
    except aiohttp.ClientError as error:
        context.recorder.error(f"transport {type(error).__name__} {EVENTS_ROUTE}")
        raise StepFailed("events") from None


class MatchingPair:
    def __init__(self, context: Context, index: int) -> None:
        self.context = context
        self.random = context.random_for("matching", index)
        self.topic = f"lt-{context.users.run}-match-{index}"

    async def run(self) -> None:
        recorder = self.context.recorder
        try:
            async with self.context.setup_slots:
                first, second = await self.context.users.pair()
            await self.meet(first, second)
            recorder.count("matches")
        except StepFailed:
            recorder.count("matches_failed")

    async def meet(self, first: User, second: User) -> None:
        context = self.context
        events = sse_events(context, first)
        try:
            event, _ = await self.next_event(events, "heartbeat")
            if event != "heartbeat":
                context.recorder.error(f"SSE began with {event}, not heartbeat")
                raise StepFailed("events")
            wait = self.random.uniform(0, context.options.match_wait)
            match, sent = await queue_then_match(context, first, second, self.topic, wait)
            context.live_sessions[match["roomId"]] = first
            event, found = await self.next_event(events, "MATCH_FOUND")
            if event != "MATCH_FOUND" or found.get("partnerId") != str(second.id):
                context.recorder.error(f"SSE sent {event} with {found}, not MATCH_FOUND with the partner")
                raise StepFailed("MATCH_FOUND")
            context.recorder.latency(MATCH, (time.perf_counter() - sent) * 1000)
        except StopAsyncIteration:
            context.recorder.error("SSE stream ended early")
            raise StepFailed("events") from None
        finally:
            await events.aclose()
        await end_session(context, match["roomId"], first)

    async def next_event(self, events: AsyncIterator[tuple[str, dict]], awaited: str) -> tuple[str, dict]:
        try:
            async with asyncio.timeout(self.context.options.timeout):
                return await anext(events)
        except TimeoutError:
            self.context.recorder.error(f"timeout {awaited} on SSE")
            raise StepFailed(awaited) from None


async def end_session(context: Context, session_id: str, user: User) -> None:
    await context.api.call("POST", "/collab/sessions/{id}/end", f"/collab/sessions/{session_id}/end", user=user)
    context.live_sessions.pop(session_id, None)

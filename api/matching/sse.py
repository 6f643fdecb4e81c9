"""The match events of one user as Server-Sent Events: `heartbeat` every so often, then one
`MATCH_FOUND` (the match's fields, user ids as strings) or `TIMEOUT`, and the stream ends."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from actors.events.subscriptions import Subscription, SubscriptionClosed

MATCH_FIELDS = ("roomId", "topic", "difficulty", "language", "questionId", "partnerId")


def sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def with_string_ids(body: dict[str, Any]) -> dict[str, Any]:
    """The PeerPrep seed renders user ids as strings."""
    out = dict(body)
    for key in ("userId", "partnerId"):
        if key in out and out[key] is not None:
            out[key] = str(out[key])
    if isinstance(out.get("match"), dict):
        out["match"] = with_string_ids(out["match"])
    return out


def match_found(event: dict[str, Any]) -> str:
    return sse("MATCH_FOUND", with_string_ids({key: event[key] for key in MATCH_FIELDS if key in event}))


async def match_events(
    subscription: Subscription,
    current: dict[str, Any] | None,
    heartbeat: float,
    deadline: float | None,
    on_end: Callable[[], None] = lambda: None,
) -> AsyncIterator[str]:
    """The stream for a user whose status was `current` when `subscription` was confirmed;
    `deadline` (event-loop time) ends it with TIMEOUT. Closes the subscription when done, and
    calls `on_end` (the stream's slot under its caps is given back)."""
    loop = asyncio.get_running_loop()
    try:
        if current and current["status"] == "MATCHED":
            yield match_found(current["match"])
            return
        if current and current["status"] == "EXPIRED":
            yield sse("TIMEOUT", {})
            return
        yield sse("heartbeat", {})
        while True:
            wait = heartbeat if deadline is None else min(heartbeat, deadline - loop.time())
            if wait <= 0:
                yield sse("TIMEOUT", {})
                return
            try:
                event = await asyncio.wait_for(subscription.get(), wait)
            except TimeoutError:
                if deadline is None or loop.time() < deadline:
                    yield sse("heartbeat", {})
                continue
            except SubscriptionClosed:
                return
            if event["type"] == "MATCH_FOUND":
                yield match_found(event)
                return
            if event["type"] == "TIMEOUT":
                yield sse("TIMEOUT", {})
                return
    finally:
        subscription.close()
        on_end()

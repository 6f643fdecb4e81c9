"""The front's side of the runtime: messages to actors, batched per host per event-loop tick.

A Ray call costs far more CPU, on both sides, than one more message in it (`scripts/bench
batching`). So every message a front sends to one host within one tick travels in one Ray
call, and at most `max_batches_in_flight` calls per host are out at once: what arrives
meanwhile waits in the outbox and leaves, all together, when one comes back. Under load this
makes batches larger and calls fewer, and it is admission control: under contention,
messages wait here rather than at the database. A call answers when its slowest message
does, so a call out longer than `slow_batch_after` stops holding back the next one: a
stuck handler stalls the host's other calls that long at most. Too short a limit lets
every call through to a contended database again (docs/benchmarks.md has the load test
that chose the default).
Replies are routed back to the awaiting requests. Every call has a
timeout, and any Ray failure surfaces as `ActorUnavailable` (the API answers 503), never
as a hang.

A message to an actor this front has not placed yet goes to the directory's host, which
places the actor and, when it placed it on itself, delivers the message in the same call
(one round trip for an activation instead of two); otherwise the front forwards it to the
host named in the answer. Later messages to an actor still being placed wait for its place,
so one actor's messages leave the front in the order they were asked.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import ray
from ray.exceptions import RayError

from actors.background import BackgroundTasks
from actors.host import Envelope
from actors.hosting.config import RuntimeConfig
from actors.hosting.wire import WireError, pack, unpack, unpicklable

log = logging.getLogger("peerprep.actors.client")


class ActorUnavailable(Exception):
    """The actor could not be reached or did not answer in time."""


def _expire(future: asyncio.Future, actor_id: str, limit: float) -> None:
    if not future.done():
        future.set_exception(ActorUnavailable(f"actor {actor_id} did not answer within {limit:g} s"))


def _packed(batch: list[tuple[Envelope, asyncio.Future]]) -> tuple[list[tuple[Envelope, asyncio.Future]], bytes]:
    """The batch and its envelopes packed for the wire. A message that cannot be pickled (a
    bug in its sender) is answered at once with the error and left out; the rest go."""
    try:
        return batch, pack([envelope for envelope, _ in batch])
    except Exception:  # any pickling failure: find the culprits
        culprits = unpicklable([envelope for envelope, _ in batch])
    for index, error in culprits.items():
        _, future = batch[index]
        if not future.done():
            future.set_exception(error)
    sendable = [item for index, item in enumerate(batch) if index not in culprits]
    return sendable, pack([envelope for envelope, _ in sendable])


def _unavailable(party: str, error: Exception, state: str) -> ActorUnavailable:
    """Why a call to `party` failed: Ray's error by name (`party` is `state`), or its answer unreadable."""
    if isinstance(error, WireError):
        return ActorUnavailable(f"{party}'s answer could not be read: {error}")
    return ActorUnavailable(f"{party} is {state}: {type(error).__name__}")


class _Slot:
    """A call's hold on one of its host's in-flight places: `release` runs once, when the call
    comes back or when it has been out for `slow_batch_after`, whichever is first."""

    __slots__ = ("_release", "_timer")

    def __init__(self, release: Callable[[], None], slow_after: float) -> None:
        self._release: Callable[[], None] | None = release
        self._timer = asyncio.get_running_loop().call_later(slow_after, self.free)

    def free(self) -> None:
        if self._release is not None:
            release, self._release = self._release, None
            self._timer.cancel()
            release()


class ActorClient:
    def __init__(self, directory, config: RuntimeConfig) -> None:
        self._directory = directory
        self._config = config
        self._locations: dict[str, str] = {}
        self._handles: dict[str, Any] = {}
        self._outboxes: dict[str, list[tuple[Envelope, asyncio.Future]]] = defaultdict(list)
        self._in_flight: dict[str, int] = defaultdict(int)
        self._flush_scheduled: set[str] = set()
        self._locating: dict[str, asyncio.Future] = {}
        self._locate_queue: list[str] = []
        self._placing: dict[str, asyncio.Future] = {}  # actor id → its host name, or why it has none
        self._unplaced: list[tuple[Envelope, asyncio.Future]] = []
        self._unplaced_ids: set[str] = set()
        self._background = BackgroundTasks()
        self.ray_calls = 0

    async def ask(self, actor_id: str, message: Any, within: float | None = None) -> Any:
        """Send `message` to the actor and return its answer (or raise the handler's exception).

        `within` overrides the configured call timeout, in seconds. The timeout is a timer on
        the reply itself rather than a task around the call: cheaper on the front's hot path.
        """
        limit = self._config.call_timeout if within is None else within
        loop = asyncio.get_running_loop()
        started = loop.time()
        envelope, future = Envelope(actor_id, message), loop.create_future()
        host = self._locations.get(actor_id)
        if host is None and (actor_id not in self._placing or actor_id in self._unplaced_ids):
            self._place(envelope, future)
        else:
            if host is None:
                host = await self._placed(actor_id, limit)
            self._outboxes[host].append((envelope, future))
            self._schedule_flush(host)
        timer = loop.call_later(max(0.0, limit - (loop.time() - started)), _expire, future, actor_id, limit)
        try:
            reply = await future
        finally:
            timer.cancel()
        return reply.unwrap()

    async def _placed(self, actor_id: str, limit: float) -> str:
        """The host of an actor whose placement is under way, once the directory has answered."""
        try:
            placed = await asyncio.wait_for(asyncio.shield(self._placing[actor_id]), limit)
        except TimeoutError:
            raise ActorUnavailable(f"actor {actor_id} could not be placed within {limit:g} s") from None
        if isinstance(placed, ActorUnavailable):
            raise placed
        return placed

    def _place(self, envelope: Envelope, future: asyncio.Future) -> None:
        """Queue a message to a not yet placed actor; one call at the end of this tick takes them all."""
        loop = asyncio.get_running_loop()
        if envelope.actor_id not in self._placing:
            self._placing[envelope.actor_id] = loop.create_future()
            self._unplaced_ids.add(envelope.actor_id)
        self._unplaced.append((envelope, future))
        if len(self._unplaced) == 1:
            loop.call_soon(self._flush_unplaced)

    def _flush_unplaced(self) -> None:
        batch, self._unplaced = self._unplaced, []
        self._unplaced_ids.clear()
        self._background.spawn(self._send_unplaced(batch))

    async def _send_unplaced(self, batch: list[tuple[Envelope, asyncio.Future]]) -> None:
        actor_ids = {envelope.actor_id for envelope, _ in batch}
        batch, payload = _packed(batch)
        try:
            self.ray_calls += 1
            found, packed = await self._directory.place_and_deliver.remote(payload)
            replies = unpack(packed)
        except (RayError, WireError) as error:
            failure = _unavailable("the actor directory", error, "unreachable")
            found, replies = {}, [None] * len(batch)
        else:
            failure = ActorUnavailable("no host has room for another actor")
        for (envelope, future), reply in zip(batch, replies, strict=True):
            host = found.get(envelope.actor_id)
            if future.done():
                continue
            if reply is not None:
                future.set_result(reply)
            elif host is None:
                future.set_exception(failure)
            else:
                self._outboxes[host].append((envelope, future))
                self._schedule_flush(host)
        sent = {envelope.actor_id for envelope, _ in batch}
        for actor_id in actor_ids:
            host = found.get(actor_id)
            if host is not None:
                self._locations[actor_id] = host
            elif actor_id not in sent:
                host = ActorUnavailable(f"actor {actor_id} was not placed: its first message could not be sent")
            self._placing.pop(actor_id).set_result(host or failure)

    async def _locate(self, actor_id: str) -> str:
        """Ask the directory, batching the lookups of one tick into one call."""
        pending = self._locating.get(actor_id)
        if pending is None:
            pending = self._locating[actor_id] = asyncio.get_running_loop().create_future()
            self._locate_queue.append(actor_id)
            if len(self._locate_queue) == 1:
                asyncio.get_running_loop().call_soon(lambda: self._background.spawn(self._resolve()))
        return await asyncio.shield(pending)

    async def _resolve(self) -> None:
        wanted, self._locate_queue = self._locate_queue, []
        try:
            self.ray_calls += 1
            found = await self._directory.locate.remote(wanted)
        except RayError as error:
            found, failure = {}, ActorUnavailable(f"the actor directory is unreachable: {type(error).__name__}")
        else:
            failure = None
        for actor_id in wanted:
            future = self._locating.pop(actor_id)
            host = found.get(actor_id)
            if host is not None:
                self._locations[actor_id] = host
                future.set_result(host)
            else:
                future.set_exception(failure or ActorUnavailable("no host has room for another actor"))

    def host_handle(self, host: str):
        handle = self._handles.get(host)
        if handle is None:
            handle = ray.get_actor(self._config.actor_name(host), namespace=self._config.namespace)
            self._handles[host] = handle
        return handle

    def _schedule_flush(self, host: str) -> None:
        """Send `host`'s outbox at the end of this event-loop tick (once, however many asked)."""
        if host not in self._flush_scheduled:
            self._flush_scheduled.add(host)
            asyncio.get_running_loop().call_soon(self._flush, host)

    def _flush(self, host: str) -> None:
        self._flush_scheduled.discard(host)
        if not self._outboxes[host] or self._in_flight[host] >= self._config.max_batches_in_flight:
            return
        batch, self._outboxes[host] = self._outboxes[host], []
        self._in_flight[host] += 1
        slot = _Slot(functools.partial(self._slot_freed, host), self._config.slow_batch_after)
        self._background.spawn(self._send(host, batch, slot))

    def _slot_freed(self, host: str) -> None:
        self._in_flight[host] -= 1
        if self._outboxes[host]:
            self._schedule_flush(host)

    async def _send(self, host: str, batch: list[tuple[Envelope, asyncio.Future]], slot: _Slot) -> None:
        batch, payload = _packed(batch)
        try:
            self.ray_calls += 1
            replies = unpack(await self.host_handle(host).deliver.remote(payload))
        except (RayError, ValueError, WireError) as error:
            failure = _unavailable(f"actor host {host}", error, "unavailable")
            for _, future in batch:
                if not future.done():
                    future.set_exception(failure)
        else:
            for (_, future), reply in zip(batch, replies, strict=True):
                if not future.done():
                    future.set_result(reply)
        finally:
            slot.free()

    async def hosts(self) -> dict[str, int]:
        return await self._directory.hosts.remote()

    async def host_stats(self, host: str) -> dict:
        return await self.host_handle(host).stats.remote()

    async def cluster_stats(self) -> dict[str, dict | None]:
        """Every host's stats, one Ray call each, within the call timeout; None for a host that
        did not answer. ActorUnavailable when the directory itself does not answer."""
        limit = self._config.call_timeout
        try:
            hosts = await asyncio.wait_for(self.hosts(), limit)
        except (TimeoutError, RayError) as error:
            raise ActorUnavailable(f"the actor directory did not answer: {type(error).__name__}") from None

        async def one(host: str) -> dict | None:
            try:
                return await asyncio.wait_for(self.host_stats(host), limit)
            except (TimeoutError, RayError, ValueError) as error:
                log.warning("actor host %s gave no stats: %s", host, type(error).__name__)
                return None

        answers = await asyncio.gather(*(one(host) for host in hosts))
        return dict(zip(hosts, answers, strict=True))

    def host_of(self, actor_id: str) -> str | None:
        return self._locations.get(actor_id)

    async def locate(self, actor_id: str) -> str:
        """The host of `actor_id`, placing the actor if it has none yet."""
        return self._locations.get(actor_id) or await self._locate(actor_id)

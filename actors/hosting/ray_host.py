"""The Ray actor that carries an `ActorHost`: one worker process, many virtual actors."""

from __future__ import annotations

import asyncio
import gc
import logging
import os

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from actors.actor import Wake
from actors.clock import RealClock
from actors.events.ray_transport import EventHub
from actors.events.redis_transport import RedisEventSink
from actors.host import ActorHost, Envelope, Reply
from actors.hosting.config import DIRECTORY_HOST, RuntimeConfig, load_factories
from actors.hosting.directory import Directory
from actors.hosting.gc_tuning import settle_heap
from actors.hosting.wire import pack_replies, unpack

log = logging.getLogger("peerprep.actors.host")

# Node affinity holds only for a request of some resource: Ray places an actor that asks for
# nothing on a random node, whatever its strategy says (seen with Ray 2.60). Hosts ask for
# one byte of `memory`, a resource every node has, so a soft affinity still lets Ray restart
# them on any node.
AFFINITY_MEMORY_BYTES = 1


class HostActor:
    def __init__(self, name: str, config: RuntimeConfig) -> None:
        self.name = name
        self.config = config
        restarted = ray.get_runtime_context().was_current_actor_reconstructed
        self.directory = None
        if name == DIRECTORY_HOST:
            self.directory = Directory(config, name, lambda host, node_id: open_host(config, host, node_id))
            self.directory.start(restarted)
        clock = RealClock()
        self.hub = None if config.redis_url else EventHub(clock, limit=config.host_event_limit)
        self.sink = RedisEventSink(config.redis_url, config.prefix) if config.redis_url else self.hub
        self.host = ActorHost(
            load_factories(config),
            clock,
            capacity=config.host_capacity,
            idle_timeout=config.idle_timeout,
            sweep_interval=config.sweep_interval,
            events=self.sink,
        )
        settle_heap(config.gc_gen0_threshold)
        self._sweeping = False
        self.batches = 0
        self.messages = 0
        self.woken = 0
        if restarted:
            self._waking = asyncio.get_running_loop().create_task(self._wake_previous_actors())

    async def _wake_previous_actors(self) -> None:
        """After Ray restarted this host (its process died), bring back the actors it held, so
        their timers (a contest's deadline) fire without waiting for someone to write to them."""
        try:
            if self.directory is not None:
                actor_ids = await self.directory.placed_on(self.name)
            else:
                directory = ray.get_actor(self.config.directory_name, namespace=self.config.namespace)
                actor_ids = await directory.placed_on.remote(self.name)
            replies = await self._deliver([Envelope(actor_id, Wake()) for actor_id in actor_ids])
            self.woken = sum(reply.error is None for reply in replies)
        except Exception:
            log.exception("host %s could not wake its previous actors", self.name)

    async def deliver(self, payload: bytes) -> bytes:
        """A front's batch, packed by `actors.hosting.wire`: the replies, in order, packed too."""
        return pack_replies(await self._deliver(unpack(payload)))

    async def _deliver(self, batch: list[Envelope]) -> list[Reply]:
        if not self._sweeping:
            self.host.start()
            self._sweeping = True
        self.batches += 1
        self.messages += len(batch)
        return await self.host.deliver(batch)

    async def stats(self) -> dict:
        return {
            **self.host.stats(),
            "batches": self.batches,
            "messages": self.messages,
            "woken": self.woken,
            "events_dropped": self.sink.dropped,
            "pid": os.getpid(),
            "gc_gen0_threshold": gc.get_threshold()[0],
        }

    async def placement_record(self) -> tuple[str, list[str]]:
        """(this host's Ray node, the actors it holds): how a restarted directory relearns it."""
        return ray.get_runtime_context().get_node_id(), self.host.actor_ids()

    def _directory(self) -> Directory:
        if self.directory is None:
            raise LookupError(f"host {self.name} does not keep the directory; {DIRECTORY_HOST} does")
        return self.directory

    async def locate(self, actor_ids: list[str]) -> dict[str, str | None]:
        return await self._directory().locate(actor_ids)

    async def placed_on(self, host_name: str) -> list[str]:
        return await self._directory().placed_on(host_name)

    async def place_and_deliver(self, payload: bytes) -> tuple[dict[str, str | None], bytes]:
        """Place the batch's actors and deliver at once the envelopes of those placed here: an
        activation in one round trip. ({actor id: its host, None where no room}, a reply for each
        envelope delivered here, None for the others, which the front forwards; batch and
        replies packed by `actors.hosting.wire`.)

        Placing does not suspend, so the envelopes reach their mailboxes in the order Ray started
        this call, before any later call from the same front."""
        batch: list[Envelope] = unpack(payload)
        found = await self._directory().locate(list(dict.fromkeys(envelope.actor_id for envelope in batch)))
        here = [index for index, envelope in enumerate(batch) if found[envelope.actor_id] == self.name]
        replies: list[Reply | None] = [None] * len(batch)
        if here:
            for index, reply in zip(here, await self._deliver([batch[index] for index in here]), strict=True):
                replies[index] = reply
        return found, pack_replies(replies)

    async def hosts(self) -> dict[str, int]:
        return await self._directory().hosts()

    async def event_subscriptions(self, front_id: str, add: list[str], remove: list[str], replace: bool) -> None:
        if self.hub is not None:
            self.hub.update(front_id, add, remove, replace)

    async def poll_events(self, front_id: str, wait: float) -> tuple[bool, list]:
        if self.hub is None:
            return True, []
        return await self.hub.poll(front_id, wait)

    async def event_fronts(self) -> dict[str, list[str]]:
        return self.hub.fronts() if self.hub is not None else {}


# Ray records every actor call as task events in the caller, the callee and the GCS (for its
# state API and dashboard, which this server does not use), each kept in the GCS's memory
# (`scripts/bench task-events`). Rooms are set up in five or more calls each.
RemoteHost = ray.remote(enable_task_events=False)(HostActor)


def open_host(config: RuntimeConfig, name: str, node_id: str, **options):
    """Start (or, with `get_if_exists=True`, find) the host `name`: detached, restarted by Ray
    after its process dies, softly pinned to `node_id` so that a host whose node is gone
    restarts on a node that remains."""
    return RemoteHost.options(
        name=config.actor_name(name),
        namespace=config.namespace,
        lifetime="detached",
        max_restarts=-1,
        max_task_retries=0,
        num_cpus=0,
        memory=AFFINITY_MEMORY_BYTES,
        max_concurrency=10_000,
        scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=True),
        **options,
    ).remote(name, config)

"""The directory: maps actor ids to hosts and opens hosts on demand, inside the first host's process.

Every Ray worker process costs a fixed slice of a core while idle (its task loop checks for
signals a hundred times a second), so the directory does not get a process of its own: the
first host, `host-0`, carries it beside its actors. A restarted `host-0` rebuilds the
directory from its journal (every placement) and from the hosts that still run (where
each runs, and what it holds).
"""

from __future__ import annotations

import asyncio
import logging
import time

import ray

from actors.hosting.config import RuntimeConfig
from actors.hosting.journal import PlacementJournal
from actors.hosting.placement import NoCapacity, Placement, host_nodes

log = logging.getLogger("peerprep.actors.directory")

NODE_REFRESH_SECONDS = 5.0
PLACEMENT_RECORD_TIMEOUT_SECONDS = 30.0


class Directory:
    def __init__(self, config: RuntimeConfig, own_host: str, open_host) -> None:
        """`open_host(name, node_id)` starts a host's Ray actor (`ray_host.open_host`)."""
        self.config = config
        self.own_host = own_host
        self.placement = Placement(config.host_capacity, config.max_hosts_per_node)
        self.journal = PlacementJournal(config.namespace, config.actor_name(f"directory/{own_host}/"))
        self._open_host = open_host
        self._nodes: list[str] = []
        self._nodes_read_at = 0.0
        self._restored: asyncio.Task | None = None

    def start(self, restarted: bool) -> None:
        self._restored = asyncio.get_running_loop().create_task(self._restore(restarted))

    async def _restore(self, restarted: bool) -> None:
        """Enter the own host (it takes actors only where a host may open), then what a previous
        incarnation of this directory knew: the journal, for the hosts that still run, and what
        each of those holds live. The journal is then rewritten as one entry of all that."""
        journaled = self.journal.read() if restarted else {}
        node_id = ray.get_runtime_context().get_node_id()
        own_ids = sorted(journaled.pop(self.own_host, ()))
        self.placement.adopt(self.own_host, node_id, own_ids, accepts_actors=node_id in self._alive_nodes())
        running = await self._adopt_running_hosts()
        for host, ids in journaled.items():
            if host in running:  # a host that no longer runs was removed for good: its actors are free
                self.placement.adopt(host, running[host], sorted(ids))
        self.journal.reset({name: record.actors for name, record in self.placement.hosts.items() if record.actors})

    def _alive_nodes(self) -> list[str]:
        if time.monotonic() - self._nodes_read_at > NODE_REFRESH_SECONDS or not self._nodes:
            self._nodes = host_nodes(ray.nodes(), self.config.host_resource)
            self._nodes_read_at = time.monotonic()
        return self._nodes

    async def _adopt_running_hosts(self) -> dict[str, str]:
        """Adopt every other host Ray still runs, with the actors it holds live: {host name: its
        node}, the node "" for a host that did not answer (it is restarting, say)."""
        running: dict[str, str] = {}
        prefix = self.config.actor_name("host-")
        own = self.config.actor_name(self.own_host)
        for entry in ray.util.list_named_actors(all_namespaces=True):
            name = entry["name"]
            if entry["namespace"] != self.config.namespace or not name.startswith(prefix) or name == own:
                continue
            host = name.removeprefix(self.config.prefix)
            try:
                handle = ray.get_actor(name, namespace=self.config.namespace)
                node_id, actor_ids = await asyncio.wait_for(
                    handle.placement_record.remote(), PLACEMENT_RECORD_TIMEOUT_SECONDS
                )
            except Exception as error:
                log.error("the directory could not ask host %s what it holds: %r", name, error)
                node_id, actor_ids = "", []
            running[host] = node_id
            self.placement.adopt(host, node_id, actor_ids)
        return running

    async def locate(self, actor_ids: list[str]) -> dict[str, str | None]:
        """Host names (without prefix) for these actor ids, placing new ones; None where no room."""
        await self._restored
        found: dict[str, str | None] = {}
        placed: dict[str, set[str]] = {}
        for actor_id in actor_ids:
            known = self.placement.locate(actor_id)
            try:
                name, opened = self.placement.place(actor_id, self._alive_nodes)
            except NoCapacity:
                found[actor_id] = None
                continue
            if opened is not None:
                try:
                    self._open_host(opened.name, opened.node_id)
                except Exception:
                    self.placement.forget_host(opened.name)
                    raise
            if known is None:
                placed.setdefault(name, set()).add(actor_id)
            found[actor_id] = name
        if placed:
            self.journal.append(placed)
        return found

    async def placed_on(self, host_name: str) -> list[str]:
        """The actor ids assigned to one host (a restarted host wakes them)."""
        await self._restored
        record = self.placement.hosts.get(host_name)
        return sorted(record.actors) if record else []

    async def hosts(self) -> dict[str, int]:
        await self._restored
        return self.placement.load()

"""The directory: a named Ray actor that maps actor ids to hosts and creates hosts on demand."""

from __future__ import annotations

import time

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from actors.hosting.config import RuntimeConfig
from actors.hosting.placement import NoCapacity, Placement, host_nodes
from actors.hosting.ray_host import RemoteHost

NODE_REFRESH_SECONDS = 5.0
# Node affinity holds only for a request of some resource: Ray places an actor that asks for
# nothing on a random node, whatever its strategy says (seen with Ray 2.60). Hosts and the
# directory ask for one byte of `memory`, a resource every node has, so a soft affinity
# still lets Ray restart them on any node.
AFFINITY_MEMORY_BYTES = 1


class DirectoryActor:
    def __init__(self, config: RuntimeConfig) -> None:
        self.config = config
        self.placement = Placement(config.host_capacity, config.max_hosts_per_node)
        self._nodes: list[str] = []
        self._nodes_read_at = 0.0
        self._adopt_running_hosts()

    def _alive_nodes(self) -> list[str]:
        if time.monotonic() - self._nodes_read_at > NODE_REFRESH_SECONDS or not self._nodes:
            self._nodes = host_nodes(ray.nodes(), self.config.host_resource)
            self._nodes_read_at = time.monotonic()
        return self._nodes

    def _adopt_running_hosts(self) -> None:
        """After a directory restart, relearn the assignments from the hosts that still run."""
        prefix = self.config.actor_name("host-")
        for entry in ray.util.list_named_actors(all_namespaces=True):
            name = entry["name"]
            if entry["namespace"] != self.config.namespace or not name.startswith(prefix):
                continue
            handle = ray.get_actor(name, namespace=self.config.namespace)
            node_id, actor_ids = ray.get(handle.placement_record.remote(), timeout=30)
            self.placement.adopt(name.removeprefix(self.config.prefix), node_id, actor_ids)

    def _create_host(self, name: str, node_id: str) -> None:
        """Soft affinity: a host whose node is gone is restarted by Ray on a node that remains."""
        RemoteHost.options(
            name=self.config.actor_name(name),
            namespace=self.config.namespace,
            lifetime="detached",
            max_restarts=-1,
            max_task_retries=0,
            num_cpus=0,
            memory=AFFINITY_MEMORY_BYTES,
            max_concurrency=10_000,
            scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=True),
        ).remote(name, self.config)

    def locate(self, actor_ids: list[str]) -> dict[str, str | None]:
        """Host names (without prefix) for these actor ids, placing new ones; None where no room."""
        found: dict[str, str | None] = {}
        for actor_id in actor_ids:
            try:
                name, opened = self.placement.place(actor_id, self._alive_nodes)
            except NoCapacity:
                found[actor_id] = None
                continue
            if opened is not None:
                try:
                    self._create_host(opened.name, opened.node_id)
                except Exception:
                    self.placement.forget_host(opened.name)
                    raise
            found[actor_id] = name
        return found

    def placed_on(self, host_name: str) -> list[str]:
        """The actor ids assigned to one host (a restarted host wakes them)."""
        record = self.placement.hosts.get(host_name)
        return sorted(record.actors) if record else []

    def hosts(self) -> dict[str, int]:
        return self.placement.load()


RemoteDirectory = ray.remote(enable_task_events=False)(DirectoryActor)  # as RemoteHost

"""Where actors live: the directory's bookkeeping, free of Ray so it is tested as a plain object.

An actor id is assigned to a host on first use and stays there (a restarted host
re-activates it from the database). New actors go to the least-loaded host with room;
when every host is full, a new host is opened on the node with the fewest hosts, up to
`max_hosts_per_node`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


def host_nodes(nodes: list[dict], resource: str | None = None) -> list[str]:
    """The ids of the live nodes new hosts may open on, from `ray.nodes()` entries.

    With `resource` (setting `ACTOR_HOST_RESOURCE`), only the nodes that offer that custom
    Ray resource, as long as one of them is alive; otherwise every live node, so that losing
    the room-host nodes leaves the rooms on the nodes that remain rather than nowhere.
    """
    alive = [node for node in nodes if node["Alive"]]
    offering = [node for node in alive if resource and node.get("Resources", {}).get(resource, 0) > 0]
    return sorted(node["NodeID"] for node in offering or alive)


class NoCapacity(Exception):
    """Every host is full and every node already runs its maximum number of hosts."""


@dataclass
class HostRecord:
    name: str
    node_id: str
    actors: set[str] = field(default_factory=set)
    accepts_actors: bool = True


class Placement:
    def __init__(self, capacity: int, max_hosts_per_node: int) -> None:
        if capacity < 1 or max_hosts_per_node < 1:
            raise ValueError("capacity and max_hosts_per_node must be at least 1")
        self.capacity = capacity
        self.max_hosts_per_node = max_hosts_per_node
        self.hosts: dict[str, HostRecord] = {}
        self.assignments: dict[str, str] = {}
        self._opened = 0

    def locate(self, actor_id: str) -> str | None:
        return self.assignments.get(actor_id)

    def place(self, actor_id: str, nodes: Callable[[], list[str]]) -> tuple[str, HostRecord | None]:
        """The host for `actor_id`, and the record of a host that must be created first (or None).

        `nodes` lists the cluster's live nodes; it is called only when a host must be opened.
        """
        existing = self.assignments.get(actor_id)
        if existing is not None:
            return existing, None
        opened = None
        candidates = [host for host in self.hosts.values() if host.accepts_actors and len(host.actors) < self.capacity]
        if candidates:
            host = min(candidates, key=lambda record: (len(record.actors), record.name))
        else:
            host = opened = self._open_host(nodes())
        host.actors.add(actor_id)
        self.assignments[actor_id] = host.name
        return host.name, opened

    def _open_host(self, nodes: list[str]) -> HostRecord:
        per_node = {node: 0 for node in nodes}
        for host in self.hosts.values():
            if host.node_id in per_node:
                per_node[host.node_id] += 1
        open_nodes = [node for node, count in per_node.items() if count < self.max_hosts_per_node]
        if not open_nodes:
            raise NoCapacity(
                f"all {len(self.hosts)} hosts are full ({self.capacity} actors each) and every node "
                f"runs {self.max_hosts_per_node} hosts"
            )
        node = min(open_nodes, key=lambda candidate: (per_node[candidate], candidate))
        self._opened += 1
        record = HostRecord(name=f"host-{self._opened}", node_id=node)
        self.hosts[record.name] = record
        return record

    def forget_host(self, name: str) -> None:
        """Drop a host that could not be created, with the actors placed on it."""
        record = self.hosts.pop(name, None)
        if record is not None:
            for actor_id in record.actors:
                self.assignments.pop(actor_id, None)

    def adopt(self, name: str, node_id: str, actor_ids: list[str], accepts_actors: bool = True) -> None:
        """Rebuild the records of a host that already runs (after the directory restarted), or
        enter the directory's own host; one that does not accept actors still counts on its node."""
        record = self.hosts.setdefault(name, HostRecord(name=name, node_id=node_id, accepts_actors=accepts_actors))
        record.actors.update(actor_ids)
        for actor_id in actor_ids:
            self.assignments[actor_id] = name
        number = name.rpartition("-")[2]
        if number.isdigit():
            self._opened = max(self._opened, int(number))

    def load(self) -> dict[str, int]:
        return {name: len(record.actors) for name, record in self.hosts.items()}

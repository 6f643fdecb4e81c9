"""Placement as a plain object: least-loaded, on-demand hosts, spread over nodes, limits."""

from __future__ import annotations

import pytest

from actors.hosting.placement import NoCapacity, Placement, host_nodes


def test_assignment_is_sticky_and_least_loaded():
    placement = Placement(capacity=2, max_hosts_per_node=4)
    first, opened = placement.place("room:1", lambda: ["n1"])
    assert opened is not None and opened.name == first
    assert placement.place("room:1", lambda: ["n1"]) == (first, None)
    second, _ = placement.place("room:2", lambda: ["n1"])
    assert second == first
    third, opened_third = placement.place("room:3", lambda: ["n1"])
    assert third != first and opened_third is not None
    placement.hosts[first].actors.discard("room:2")
    fourth, _ = placement.place("room:4", lambda: ["n1"])
    assert fourth in (first, third)
    assert placement.load() == {first: 2, third: 1} or placement.load() == {first: 1, third: 2}


def test_new_hosts_spread_over_nodes_up_to_the_per_node_maximum():
    placement = Placement(capacity=1, max_hosts_per_node=2)
    nodes = ["a", "b"]
    for index in range(4):
        placement.place(f"room:{index}", lambda: nodes)
    per_node = sorted(record.node_id for record in placement.hosts.values())
    assert per_node == ["a", "a", "b", "b"]
    with pytest.raises(NoCapacity):
        placement.place("room:overflow", lambda: nodes)


def test_capacity_one_gives_every_actor_its_own_host():
    placement = Placement(capacity=1, max_hosts_per_node=100)
    hosts = {placement.place(f"room:{index}", lambda: ["n"])[0] for index in range(10)}
    assert len(hosts) == 10


def test_adopt_rebuilds_after_directory_restart_and_forget_undoes_a_failed_host():
    placement = Placement(capacity=5, max_hosts_per_node=3)
    placement.adopt("host-7", "n", ["room:1", "room:2"])
    assert placement.locate("room:2") == "host-7"
    name, opened = placement.place("room:3", lambda: ["n"])
    assert name == "host-7" and opened is None
    fresh = Placement(capacity=1, max_hosts_per_node=3)
    fresh.adopt("host-7", "n", ["room:1"])
    new_name, opened = fresh.place("room:9", lambda: ["n"])
    assert new_name == "host-8"
    fresh.forget_host(new_name)
    assert fresh.locate("room:9") is None and "host-8" not in fresh.hosts


def _node(node_id: str, alive: bool = True, **resources: float) -> dict:
    """An entry shaped like `ray.nodes()`'s."""
    return {"NodeID": node_id, "Alive": alive, "Resources": {"CPU": 2.0, **resources}}


def test_hosts_open_on_the_live_nodes_offering_the_host_resource_else_on_any_live_node():
    nodes = [_node("head"), _node("rooms-b", room_host=1), _node("rooms-a", room_host=1), _node("gone", False)]
    assert host_nodes(nodes) == ["head", "rooms-a", "rooms-b"]
    assert host_nodes(nodes, "room_host") == ["rooms-a", "rooms-b"]
    without_room_nodes = [_node("head"), _node("rooms-a", False, room_host=1)]
    assert host_nodes(without_room_nodes, "room_host") == ["head"]


def test_a_host_that_accepts_no_actors_still_counts_on_its_node():
    """The directory's own host, on a node where hosts may not open (`ACTOR_HOST_RESOURCE`)."""
    placement = Placement(capacity=5, max_hosts_per_node=2)
    placement.adopt("host-0", "front-node", [], accepts_actors=False)
    name, opened = placement.place("room:1", lambda: ["front-node"])
    assert name == "host-1" and opened is not None and opened.node_id == "front-node"
    with pytest.raises(NoCapacity):
        for index in range(2, 7):
            placement.place(f"room:{index}", lambda: ["front-node"])
    assert placement.load() == {"host-0": 0, "host-1": 5}

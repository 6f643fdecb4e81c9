"""The runtime on a real local Ray: placement, batching, timeouts, passivation, SIGKILL of a host."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import threading
import time

import pytest
import ray

from actors.hosting.client import ActorUnavailable
from actors.hosting.wire import UnsendableReply
from tests.actors.kinds import Boom, Get, Increment, Pid, SetDeadline, Sleep, Unreadable, Unsendable


async def eventually(probe, patience: float = 60.0, interval: float = 0.2):
    """Call `probe` until it stops raising ActorUnavailable (a host restarting)."""
    deadline = time.monotonic() + patience
    while True:
        try:
            return await probe()
        except ActorUnavailable:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(interval)


def _actor_record(handle) -> dict:
    """The GCS's record of an actor (Ray's state API needs the dashboard, which tests run without)."""
    return ray._private.state.state.actor_table(handle._actor_id.hex())


def _restarts(handle) -> int:
    return _actor_record(handle)["NumRestarts"]


def _state(handle) -> str:
    return _actor_record(handle)["State"]


async def until_true(check, patience: float = 60.0, interval: float = 0.1) -> None:
    deadline = time.monotonic() + patience
    while not check():
        assert time.monotonic() < deadline, "the condition never held"
        await asyncio.sleep(interval)


async def restart_directory_host(config) -> None:
    """Kill host-0's process (the directory's) and wait until Ray has restarted it."""
    directory = ray.get_actor(config.directory_name, namespace=config.namespace)
    restarts = _restarts(directory)
    ray.kill(directory, no_restart=False)
    # ray.kill returns before the kill lands: wait for the restart, or the next calls race it.
    await until_true(lambda: _restarts(directory) > restarts and _state(directory) == "ALIVE")


async def test_actors_answer_and_handler_errors_come_back_as_exceptions(runtime_factory):
    client, _ = runtime_factory()
    assert await client.ask("counter:a", Increment()) == 1
    assert await client.ask("counter:a", Increment()) == 2
    with pytest.raises(KeyError, match="boom"):
        await client.ask("counter:a", Boom())
    assert (await client.ask("counter:a", Get()))["count"] == 2


async def test_placement_fills_least_loaded_hosts_and_opens_new_ones(runtime_factory):
    client, _ = runtime_factory(host_capacity=3, max_hosts_per_node=4)
    await asyncio.gather(*(client.ask(f"counter:{index}", Increment()) for index in range(10)))
    load = await client.hosts()
    assert sorted(load.values()) == [1, 3, 3, 3]
    pids = {await client.ask(f"counter:{index}", Pid()) for index in range(10)}
    assert len(pids) == 4
    await asyncio.gather(*(client.ask(f"counter:{index}", Increment()) for index in range(10, 12)))
    with pytest.raises(ActorUnavailable, match="no host has room"):
        await client.ask("counter:overflow", Increment())


async def test_concurrent_requests_travel_in_far_fewer_ray_calls(runtime_factory):
    client, _ = runtime_factory()
    await client.ask("counter:warm", Increment())
    host = client.host_of("counter:warm")
    await asyncio.gather(*(client.ask(f"counter:{index % 50}", Increment()) for index in range(50)))
    before = await client.host_stats(host)
    calls_before = client.ray_calls
    answers = await asyncio.gather(*(client.ask(f"counter:{index % 50}", Increment()) for index in range(400)))
    after = await client.host_stats(host)
    assert after["messages"] - before["messages"] == 400
    batches = after["batches"] - before["batches"]
    assert batches <= 10, batches
    assert client.ray_calls - calls_before == batches
    assert sorted(answers)[-1] == 9


async def test_an_activation_on_the_directorys_host_is_one_ray_call_and_keeps_message_order(runtime_factory):
    client, _ = runtime_factory(host_capacity=50, max_hosts_per_node=2)
    calls_before = client.ray_calls
    assert await client.ask("counter:one-call", Increment()) == 1
    assert client.ray_calls - calls_before == 1 and client.host_of("counter:one-call") == "host-0"
    # Asked without waiting: some join the placing call, the rest wait for the place; all in order.
    answers = await asyncio.gather(*(client.ask(f"counter:order-{index % 3}", Increment()) for index in range(60)))
    assert answers == [1 + index // 3 for index in range(60)]


async def test_an_actor_placed_on_another_host_gets_its_message_forwarded(runtime_factory):
    client, _ = runtime_factory(host_capacity=1, max_hosts_per_node=3)
    assert await client.ask("counter:first", Increment()) == 1
    calls_before = client.ray_calls
    answers = await asyncio.gather(*(client.ask("counter:second", Increment()) for _ in range(5)))
    assert answers == [1, 2, 3, 4, 5]
    assert client.host_of("counter:second") == "host-1" and client.ray_calls - calls_before == 2
    assert await client.ask("counter:third", Increment()) == 1  # the last of 3 hosts x 1 actor
    with pytest.raises(ActorUnavailable, match="no host has room"):
        await client.ask("counter:none", Increment())


async def test_a_message_or_answer_that_cannot_be_pickled_fails_alone(runtime_factory):
    client, _ = runtime_factory()
    await client.ask("counter:a", Increment())
    started = time.monotonic()
    answers = await asyncio.gather(
        client.ask("counter:a", threading.Lock()),
        client.ask("counter:a", Increment()),
        client.ask("counter:b", Unsendable()),
        client.ask("counter:b", Increment()),
        return_exceptions=True,
    )
    assert time.monotonic() - started < 5  # answered, not timed out
    assert isinstance(answers[0], TypeError) and "lock" in str(answers[0])
    assert answers[1] == 2
    assert isinstance(answers[2], UnsendableReply)
    assert answers[3] == 1


async def test_an_answer_the_front_cannot_read_fails_its_call_at_once_and_the_actor_lives_on(runtime_factory):
    """Both paths: the first message (placing the actor in the directory's call) and a later one."""
    client, _ = runtime_factory()
    unreadable = "answer could not be read: RuntimeError: this answer cannot be read"
    for _ in range(2):  # the first placed by the directory's host, the second sent to the known host
        started = time.monotonic()
        with pytest.raises(ActorUnavailable, match=unreadable):
            await client.ask("counter:unread-first", Unreadable())
        assert time.monotonic() - started < 5  # answered, not timed out
    assert await client.ask("counter:unread-first", Increment()) == 1


@pytest.mark.parametrize("slow_batch_after", [0.05, 30.0])
async def test_a_slow_call_stops_holding_back_the_next_after_slow_batch_after(runtime_factory, slow_batch_after):
    """One call in flight per host: with the guard, a message behind a 2 s handler leaves
    after 50 ms; without it (30 s), it waits for the slow call to come back."""
    client, _ = runtime_factory(max_batches_in_flight=1, slow_batch_after=slow_batch_after)
    await asyncio.gather(client.ask("counter:slow", Increment()), client.ask("counter:fast", Increment()))
    assert client.host_of("counter:slow") == client.host_of("counter:fast")
    slow = asyncio.ensure_future(client.ask("counter:slow", Sleep(2)))
    await asyncio.sleep(0.2)
    started = time.monotonic()
    assert await client.ask("counter:fast", Increment()) == 2
    waited = time.monotonic() - started
    assert await slow == 2
    if slow_batch_after < 1:
        assert waited < 1.5, waited
    else:
        assert waited > 1.5, waited


async def test_a_slow_actor_times_out_with_a_clear_error_and_the_host_lives_on(runtime_factory):
    client, _ = runtime_factory()
    await client.ask("counter:warm-up", Increment())  # directory and host processes are up
    started = time.monotonic()
    with pytest.raises(ActorUnavailable, match=r"did not answer within 0\.5 s"):
        await client.ask("counter:slow", Sleep(3), within=0.5)
    assert time.monotonic() - started < 2
    assert await client.ask("counter:other", Increment(), within=0.5) == 1


async def test_idle_actors_are_passivated_and_reactivate_from_the_database(runtime_factory):
    client, _ = runtime_factory(idle_timeout=0.5, sweep_interval=0.2)
    for _ in range(3):
        await client.ask("counter:idle", Increment())
    host = client.host_of("counter:idle")
    await asyncio.sleep(1.5)
    stats = await client.host_stats(host)
    assert stats["passivations"] >= 1 and stats["actors"] == 0
    state = await client.ask("counter:idle", Get())
    assert state == {"count": 3, "expired": False, "activations": 2}


async def test_a_host_sets_the_young_gc_threshold_it_is_configured_with(runtime_factory):
    client, _ = runtime_factory(gc_gen0_threshold=23_456)
    await client.ask("counter:gc", Increment())
    stats = await client.host_stats(client.host_of("counter:gc"))
    assert stats["gc_gen0_threshold"] == 23_456


async def test_sigkill_of_a_host_reactivates_actors_with_state_and_timers(runtime_factory):
    client, _ = runtime_factory()
    for _ in range(5):
        await client.ask("counter:k", Increment())
    await client.ask("counter:k", SetDeadline(6))
    armed_at = time.monotonic()
    pid = await client.ask("counter:k", Pid())
    os.kill(pid, signal.SIGKILL)

    state = await eventually(lambda: client.ask("counter:k", Get(), within=5))
    assert state["count"] == 5 and state["expired"] is False and state["activations"] == 2
    assert await client.ask("counter:k", Pid()) != pid
    await asyncio.sleep(max(0.0, 6 - (time.monotonic() - armed_at)) + 1.0)
    assert (await client.ask("counter:k", Get()))["expired"] is True


async def test_a_restarted_host_wakes_its_actors_so_their_timers_fire_unasked(runtime_factory):
    client, config = runtime_factory()
    await client.ask("counter:alarm", SetDeadline(4))
    await client.ask("counter:bystander", Increment())
    armed_at = time.monotonic()
    os.kill(await client.ask("counter:alarm", Pid()), signal.SIGKILL)

    path = config.factory_config["path"]

    def expired() -> bool:
        with sqlite3.connect(path, timeout=30) as db:
            row = db.execute("SELECT expired_at FROM counters WHERE id = 'counter:alarm'").fetchone()
        return row is not None and row[0] is not None

    while not expired():
        assert time.monotonic() - armed_at < 60, "the woken actor's deadline never fired"
        await asyncio.sleep(0.2)
    host = client.host_of("counter:alarm")
    stats = await client.host_stats(host)
    assert stats["woken"] == 2 and stats["messages"] == 2  # the two wakes; nobody else wrote


async def test_a_dead_host_gives_unavailable_not_a_hang(runtime_factory):
    client, config = runtime_factory(call_timeout=5)
    await client.ask("counter:d", Increment())
    host = client.host_of("counter:d")
    ray.kill(ray.get_actor(config.actor_name(host), namespace=config.namespace), no_restart=True)
    started = time.monotonic()
    with pytest.raises(ActorUnavailable):
        await client.ask("counter:d", Increment())
    assert time.monotonic() - started < 5


async def test_a_restarted_directory_host_relearns_every_placement_and_wakes_its_own_actors(runtime_factory):
    """The directory lives in host-0. Killing that process loses the directory and host-0's actors:
    the other host reports what it holds, host-0's journal what it held, and host-0 wakes those."""
    client, config = runtime_factory(host_capacity=2, max_hosts_per_node=2)
    await asyncio.gather(*(client.ask(f"counter:{index}", Increment()) for index in range(3)))
    before = await client.hosts()
    placed = {f"counter:{index}": client.host_of(f"counter:{index}") for index in range(3)}
    assert sorted(placed.values()) == ["host-0", "host-0", "host-1"]
    await restart_directory_host(config)
    fresh, _ = runtime_factory(prefix=config.prefix, factory_config=config.factory_config)
    assert await eventually(lambda: fresh.hosts()) == before
    for actor_id, host in placed.items():
        assert await fresh.locate(actor_id) == host
        woken_again = 2 if host == "host-0" else 1
        assert await fresh.ask(actor_id, Get()) == {"count": 1, "expired": False, "activations": woken_again}
    assert (await fresh.host_stats("host-0"))["woken"] == 2
    # Both allowed hosts on this single node are known again, so there is no room for a fifth actor.
    await fresh.ask("counter:3", Increment())
    with pytest.raises(ActorUnavailable, match="no host has room"):
        await fresh.ask("counter:4", Increment())


async def test_a_restarted_directory_host_still_knows_the_passivated_actors_of_other_hosts(runtime_factory):
    """A running host reports only its live actors; the journal keeps the passivated ones placed, so a
    front that still sends one to its host and a front that asks the directory agree."""
    client, config = runtime_factory(host_capacity=1, max_hosts_per_node=3, idle_timeout=0.5, sweep_interval=0.2)
    await client.ask("counter:a", Increment())
    await client.ask("counter:b", Increment())
    assert (client.host_of("counter:a"), client.host_of("counter:b")) == ("host-0", "host-1")
    before = await client.hosts()

    async def passivated() -> bool:
        return (await client.host_stats("host-1"))["actors"] == 0

    deadline = time.monotonic() + 30
    while not await passivated():
        assert time.monotonic() < deadline, "counter:b was never passivated"
        await asyncio.sleep(0.2)
    await restart_directory_host(config)
    fresh, _ = runtime_factory(prefix=config.prefix, factory_config=config.factory_config)
    assert await eventually(lambda: fresh.hosts()) == before
    assert await fresh.locate("counter:b") == "host-1"
    assert await fresh.ask("counter:c", Increment()) == 1
    assert fresh.host_of("counter:c") == "host-2"


async def test_a_fresh_directory_host_starts_an_empty_journal(runtime_factory):
    """A runtime torn down and started again under the same names does not inherit old placements,
    not even after its own directory host restarts and reads its journal."""
    client, config = runtime_factory()
    await client.ask("counter:old", Increment())
    directory = ray.get_actor(config.directory_name, namespace=config.namespace)
    await directory.hosts.remote()
    ray.kill(directory, no_restart=True)
    await until_true(lambda: _state(directory) == "DEAD")
    again, _ = runtime_factory(prefix=config.prefix, factory_config=config.factory_config)
    assert await eventually(lambda: again.hosts()) == {"host-0": 0}
    assert await again.ask("counter:new", Increment()) == 1
    assert await again.hosts() == {"host-0": 1}
    await restart_directory_host(config)
    assert await eventually(lambda: again.hosts()) == {"host-0": 1}
    assert (await again.host_stats("host-0"))["woken"] == 1


def test_embedded_ray_runs_without_the_helpers_the_server_never_uses(ray_session):
    """The session's Ray is embedded (started by `start_ray`): no log monitor, no autoscaler monitor,
    no dashboard process, while the raylet and the GCS it needs still run."""
    import psutil

    commands = []
    for child in psutil.Process().children(recursive=True):
        try:
            commands.append(" ".join(child.cmdline()))
        except psutil.Error:  # exited (a killed host's process, say): not running anything
            continue
    assert any("raylet" in command for command in commands)
    assert any("gcs_server" in command for command in commands)
    assert not [command for command in commands if "log_monitor.py" in command]
    assert not [command for command in commands if "autoscaler/_private/monitor.py" in command]
    assert not [command for command in commands if "dashboard/dashboard.py" in command]


async def test_the_servers_actors_leave_no_task_events_in_the_gcs(runtime_factory):
    """Ray keeps a record of every call (~3.4 KB each in the GCS) for a state API the server does
    not use; the hosts and the directory turn it off. A plain actor's calls show that the records
    would be seen: they arrive within the report interval (1 s)."""

    class Plain:
        def ping(self) -> str:
            return "pong"

    client, _ = runtime_factory()
    for _ in range(5):
        await client.ask("counter:unrecorded", Increment())
    plain = ray.remote(num_cpus=0)(Plain).remote()
    assert await plain.ping.remote() == "pong"

    def recorded() -> set[str]:
        return {event.task_info.name for event in ray._private.state.state._get_all_task_events()}

    await until_true(lambda: "Plain.ping" in recorded())
    ray.kill(plain)
    server_calls = {name for name in recorded() if name.startswith("HostActor.")}
    assert server_calls == set()

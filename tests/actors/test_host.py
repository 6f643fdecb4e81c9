"""The host as a plain object: activation on demand, batches, capacity, idle passivation."""

from __future__ import annotations

import asyncio

import pytest

from actors.actor import Wake
from actors.clock import FakeClock
from actors.host import ActorHost, Envelope, HostFull, UnknownActorKind
from tests.actors.test_actor_model import Append, Fail, Recorder


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def storage():
    return {}


@pytest.fixture
def host(clock, storage):
    def recorder(actor_id, context):
        return Recorder(actor_id, context.clock, storage.setdefault(actor_id, {}))

    return ActorHost({"rec": recorder}, clock, capacity=3, idle_timeout=60, sweep_interval=10)


async def test_batch_answers_in_order_and_activates_on_demand(host):
    replies = await host.deliver(
        [Envelope("rec:a", Append(1)), Envelope("rec:b", Append(2)), Envelope("rec:a", Append(3))]
    )
    assert [reply.unwrap() for reply in replies] == [1, 1, 2]
    assert len(host) == 2 and host.stats()["activations"] == 2


async def test_one_failing_message_does_not_spoil_the_batch(host):
    replies = await host.deliver(
        [Envelope("rec:a", Append(1)), Envelope("rec:a", Fail("nope")), Envelope("nobody:x", Append(1))]
    )
    assert replies[0].unwrap() == 1
    with pytest.raises(ValueError, match="nope"):
        replies[1].unwrap()
    assert isinstance(replies[2].error, UnknownActorKind)
    with pytest.raises(UnknownActorKind):
        host.activation("no-kind-separator")


async def test_capacity_is_enforced_per_host(host):
    await host.deliver([Envelope(f"rec:{index}", Append(index)) for index in range(3)])
    (reply,) = await host.deliver([Envelope("rec:overflow", Append(0))])
    assert isinstance(reply.error, HostFull)
    (again,) = await host.deliver([Envelope("rec:0", Append(5))])
    assert again.unwrap() == 2


async def test_idle_actors_are_passivated_with_state_flushed_and_reactivated(host, clock, storage):
    await host.deliver([Envelope("rec:a", Append(1)), Envelope("rec:b", Append(9))])
    host.start()
    await clock.advance(30)
    await host.deliver([Envelope("rec:b", Append(10))])
    await clock.advance(40)
    assert "rec:a" not in host and "rec:b" in host
    assert storage["rec:a"] == {"values": [1]}
    (reply,) = await host.deliver([Envelope("rec:a", Append(2))])
    assert reply.unwrap() == 2
    assert host.stats()["passivations"] == 1 and host.stats()["activations"] == 3
    await host.stop()
    assert len(host) == 0 and storage["rec:b"] == {"values": [9, 10]}


async def test_messages_arriving_during_passivation_are_not_lost(host, clock):
    await host.deliver([Envelope("rec:a", Append(1))])
    actor = host.activation("rec:a")
    passivating = asyncio.ensure_future(host.passivate("rec:a"))
    await asyncio.sleep(0)  # the deactivation marker is queued now
    late = actor.ask(Append(2))
    await passivating
    assert await late == 2
    assert actor.active and "rec:a" in host


async def test_an_actor_that_objects_is_not_passivated_when_idle(host, clock):
    await host.deliver([Envelope("rec:busy", Append(1)), Envelope("rec:free", Append(1))])
    host.activation("rec:busy").may_passivate = lambda: False
    host.start()
    await clock.advance(80)
    assert "rec:busy" in host and "rec:free" not in host
    host.activation("rec:busy").may_passivate = lambda: True
    await clock.advance(10)
    assert "rec:busy" not in host
    await host.stop()


async def test_wake_activates_without_handling(host, storage):
    storage["rec:a"] = {"values": [4, 5]}
    (reply,) = await host.deliver([Envelope("rec:a", Wake())])
    actor = host.activation("rec:a")
    assert reply.unwrap() is None
    assert actor.active and actor.activations == 1 and actor.values == [4, 5] and actor.max_running == 0


async def test_an_actor_that_retires_is_dropped_right_after_answering(host):
    actor = host.activation("rec:ghost")
    actor.retiring = True
    (reply,) = await host.deliver([Envelope("rec:ghost", Append(1))])
    assert reply.unwrap() == 1
    assert "rec:ghost" not in host and actor.deactivations == 1

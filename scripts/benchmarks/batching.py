"""`scripts/bench batching`: what a Ray call costs against an envelope more in it, and what
the number of calls in flight per host does to the actor route. The evidence behind
`ACTOR_BATCHES_IN_FLIGHT` and `actors/hosting/wire.py`.

1. Serialization of one batch of 11 envelopes and of its replies: Ray's serializer on the
   list, against `wire.pack` (one pickle) handing Ray a `bytes`.
2. CPU per call and per envelope: this process (a front) builds, packs and sends batches of
   1 to 128 envelopes to one host over the embedded Ray, 8 calls in flight, and unpacks the
   replies; the scheduler's counters give the CPU of this process and of the host per call; a least-squares line through
   (batch size, CPU per call) splits it into a fixed cost per call and a cost per envelope.
3. The actor route against the plain route (`wrk -t1 -c32`, as `scripts/bench actors`) with
   1, 2, 4 and 8 calls in flight (`--in-flight`), each on a fresh bench app, and the
   envelopes per call the host counted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import timeit
from pathlib import Path

import httpx
from measure import scheduled_seconds_by_role, wrk
from reporting import finish

from benchmarks.server import bench_app

ROOT = Path(__file__).resolve().parents[2]
SIZES = (1, 2, 4, 8, 16, 32, 64, 128)


def serialization_micros() -> dict[str, float]:
    """Microseconds to serialize a batch of 11 envelopes and its 11 replies, Ray's way and packed."""
    import ray

    from actors.host import Envelope, Reply
    from actors.hosting.wire import pack, pack_replies
    from benchmarks.kinds import Touch

    context = ray._private.worker.global_worker.get_serialization_context()
    batch = [Envelope(f"benchroom:{index}", Touch()) for index in range(11)]
    replies = [Reply(value=18) for _ in range(11)]

    def micros(work) -> float:
        return min(timeit.repeat(work, number=2000, repeat=3)) / 2000 * 1e6

    return {
        "batch_ray_us": micros(lambda: context.serialize(batch)),
        "batch_packed_us": micros(lambda: context.serialize(pack(batch))),
        "replies_ray_us": micros(lambda: context.serialize(replies)),
        "replies_packed_us": micros(lambda: context.serialize(pack_replies(replies))),
    }


async def call_costs(envelopes_per_size: int) -> tuple[dict[int, dict[str, float]], dict[str, float]]:
    """CPU per call of this process and of the host, by batch size; and `serialization_micros`
    with the serializer those calls used."""
    from actors.host import Envelope
    from actors.hosting.runtime import ActorRuntime
    from actors.hosting.wire import pack, unpack
    from benchmarks.actor_app import CONFIG
    from benchmarks.kinds import Touch

    runtime = await ActorRuntime.start(None, CONFIG)
    try:
        client = runtime.client
        await asyncio.gather(*(client.ask(f"benchroom:{n}", Touch(), within=60) for n in range(1000)))
        host = client.host_handle(client.host_of("benchroom:0"))
        serialization = serialization_micros()
        costs = {}
        for size in SIZES:
            calls = max(envelopes_per_size // size, 200)
            slots = asyncio.Semaphore(8)
            ids = [[f"benchroom:{(call * size + index) % 1000}" for index in range(size)] for call in range(calls)]

            async def send(actor_ids: list[str], slots: asyncio.Semaphore = slots) -> None:
                async with slots:
                    payload = pack([Envelope(actor_id, Touch()) for actor_id in actor_ids])
                    for reply in unpack(await host.deliver.remote(payload)):
                        reply.unwrap()

            before, started = scheduled_seconds_by_role(os.getpid()), time.perf_counter()
            await asyncio.gather(*(send(actor_ids) for actor_ids in ids))
            after, elapsed = scheduled_seconds_by_role(os.getpid()), time.perf_counter() - started
            costs[size] = {
                "front_us_per_call": (after["front"] - before["front"]) / calls * 1e6,
                "host_us_per_call": (after["HostActor"] - before["HostActor"]) / calls * 1e6,
                "envelopes_per_second": calls * size / elapsed,
            }
            print(f"  batch of {size:3}: " + ", ".join(f"{k} {v:,.0f}" for k, v in costs[size].items()), flush=True)
        return costs, serialization
    finally:
        await runtime.close()


def fixed_and_marginal(costs: dict[int, dict[str, float]], key: str) -> tuple[float, float]:
    """Least squares of CPU per call on batch size: (µs per call, µs per envelope)."""
    sizes = list(costs)
    values = [costs[size][key] for size in sizes]
    mean_size, mean_value = sum(sizes) / len(sizes), sum(values) / len(values)
    slope = sum((s - mean_size) * (v - mean_value) for s, v in zip(sizes, values, strict=True)) / sum(
        (s - mean_size) ** 2 for s in sizes
    )
    return mean_value - slope * mean_size, slope


def in_flight_run(in_flight: int, seconds: int, connections: int) -> dict[str, float]:
    """Plain and actor route on a fresh bench app with `in_flight` calls per host."""
    with bench_app(ACTOR_BATCHES_IN_FLIGHT=str(in_flight)) as (base, _):
        http = httpx.Client(base_url=base, timeout=120)
        http.post("/populate", params={"start": 0, "count": 1000}).raise_for_status()
        plain = wrk(base, "plain", seconds, connections)
        before = http.get("/hosts").json()
        routed = wrk(base, "actor", seconds, connections)
        after = http.get("/hosts").json()
    messages = sum(after[host]["messages"] - before[host]["messages"] for host in after)
    calls = sum(after[host]["batches"] - before[host]["batches"] for host in after)
    return {"plain_rps": plain, "actor_rps": routed, "ratio": routed / plain, "envelopes_per_call": messages / calls}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--envelopes", type=int, default=20_000, help="envelopes sent per batch size in part 2")
    parser.add_argument("--in-flight", default="1,2,4,8", help="values of ACTOR_BATCHES_IN_FLIGHT for part 3")
    parser.add_argument("--seconds", type=int, default=8, help="length of each wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--json", type=Path, default=ROOT / "var" / "bench-batching.json")
    args = parser.parse_args()

    print("[1-2/3] serializing a batch; CPU per Ray call and per envelope (embedded Ray, this process the front)")
    costs, serialization = asyncio.run(call_costs(args.envelopes))
    front_call, front_envelope = fixed_and_marginal(costs, "front_us_per_call")
    host_call, host_envelope = fixed_and_marginal(costs, "host_us_per_call")
    print("[3/3] actor route / plain route by calls in flight per host", flush=True)
    sweep = {}
    for value in [int(part) for part in args.in_flight.split(",")]:
        sweep[value] = in_flight_run(value, args.seconds, args.connections)
        print(f"  {value} in flight: {sweep[value]['ratio']:.2f}x", flush=True)

    lines = [
        "serialize 11 envelopes: Ray {batch_ray_us:.1f} µs, packed {batch_packed_us:.1f} µs; their replies: Ray"
        " {replies_ray_us:.1f} µs, packed {replies_packed_us:.1f} µs".format(**serialization),
        f"CPU per Ray call: front {front_call:.0f} µs, host {host_call:.0f} µs;"
        f" per envelope more: front {front_envelope:.1f} µs, host {host_envelope:.1f} µs"
        f" (a call costs {(front_call + host_call) / (front_envelope + host_envelope):.0f} envelopes)",
        *(
            f"  batch of {size:3}: front {cost['front_us_per_call']:6.0f} µs/call, host {cost['host_us_per_call']:6.0f}"
            f" µs/call, {cost['envelopes_per_second']:8,.0f} envelopes/s"
            for size, cost in costs.items()
        ),
        *(
            f"{value} calls in flight per host: actor / plain {run['ratio']:.2f}x ({run['actor_rps']:.0f} vs"
            f" {run['plain_rps']:.0f} req/s), {run['envelopes_per_call']:.1f} envelopes per call"
            for value, run in sweep.items()
        ),
    ]
    results = {
        "serialization": serialization,
        "per_call_us": {"front": front_call, "host": host_call},
        "per_envelope_us": {"front": front_envelope, "host": host_envelope},
        "by_batch_size": costs,
        "by_in_flight": sweep,
    }
    return finish(lines, results, args.json)


if __name__ == "__main__":
    sys.exit(main())

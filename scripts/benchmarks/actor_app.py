"""The front under benchmark: the real actor runtime behind a few measurement routes."""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from contextlib import asynccontextmanager

from fastapi import FastAPI

from actors.diagnostics import Ping
from actors.host import Envelope
from actors.hosting.config import RuntimeConfig
from actors.hosting.gc_tuning import settle_heap
from actors.hosting.runtime import ActorRuntime
from actors.hosting.wire import pack, unpack
from benchmarks.kinds import Stamp, Touch

CONFIG = RuntimeConfig(
    namespace="bench",
    factories="benchmarks.kinds:factories",
    max_hosts_per_node=1,
    host_capacity=50_000,
    redis_url=os.environ.get("BENCH_REDIS_URL") or None,
    gc_gen0_threshold=int(os.environ.get("GC_GEN0_THRESHOLD", "100000")),
    max_batches_in_flight=int(os.environ.get("ACTOR_BATCHES_IN_FLIGHT", "2")),
    slow_batch_after=float(os.environ.get("ACTOR_SLOW_BATCH_MS", "100")) / 1000,
)


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.runtime = await ActorRuntime.start(None, CONFIG)
    await app.state.runtime.client.ask("probe:warm", Ping())
    settle_heap(CONFIG.gc_gen0_threshold)  # as `peerprep serve` does
    yield
    await app.state.runtime.close()


app = FastAPI(lifespan=lifespan)


def client():
    return app.state.runtime.client


@app.get("/plain/{n}")
async def plain(n: int):
    return {"n": n}


@app.get("/actor/{n}")
async def actor(n: int):
    return {"n": await client().ask(f"benchroom:{n}", Touch())}


@app.get("/naive/{n}")
async def naive(n: int):
    """One Ray call per request, no batching: the baseline the design improves on."""
    host = await client().locate(f"benchroom:{n}")
    (reply,) = unpack(await client().host_handle(host).deliver.remote(pack([Envelope(f"benchroom:{n}", Touch())])))
    return {"n": reply.unwrap()}


@app.post("/populate")
async def populate(start: int, count: int):
    for offset in range(0, count, 500):
        ids = range(start + offset, start + min(offset + 500, count))
        await asyncio.gather(*(client().ask(f"benchroom:{n}", Touch(), within=60) for n in ids))
    return {"hosts": await client().hosts()}


@app.get("/hosts")
async def hosts():
    names = await client().hosts()
    return {name: await client().host_stats(name) for name in names}


@app.get("/fanout")
async def fanout(samples: int = 1000):
    """Publish → delivered to this front, measured on one machine's clock, in milliseconds."""
    subscription = await app.state.runtime.bus.subscribe("benchroom:fanout", limit=samples + 10)
    latencies = []
    try:
        for seq in range(samples):
            await client().ask("benchroom:fanout", Stamp("benchroom:fanout", seq))
            event = await asyncio.wait_for(subscription.get(), 5)
            latencies.append((time.time() - event["at"]) * 1000)
            await asyncio.sleep(0.002)
    finally:
        subscription.close()
    latencies.sort()
    return {
        "p50": statistics.median(latencies),
        "p99": latencies[int(len(latencies) * 0.99) - 1],
        "samples": len(latencies),
    }


if __name__ == "__main__":
    import argparse

    import uvicorn

    from api.server.quiet_server import serve

    parser = argparse.ArgumentParser(description="serve the benchmark's front as `peerprep serve` serves the app")
    parser.add_argument("--port", type=int, required=True)
    serve(uvicorn.Config(app, port=parser.parse_args().port, log_level="warning"))

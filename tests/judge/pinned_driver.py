"""The driver of test_worker_pinning, run in a process of its own (a process joins one Ray cluster).

It joins the cluster at argv[1], waits for the judge node to join, starts the judge workers
as a room host does with `JUDGE_RAY_RESOURCE=judge` and `JUDGE_WORKERS=3`, has them judge a few submissions with
the test judge, prints what it saw as JSON and kills the workers.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import ray

from judge.backends import EngineConfig
from judge.interface import JudgeJob
from judge.ray_workers import JudgeWorkers, WorkerPoolConfig

DRIVER_NODE_IP = "127.0.0.2"


def wait_until(condition, what: str, patience: float = 60.0) -> None:
    deadline = time.monotonic() + patience
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting until {what}")
        time.sleep(0.2)


async def judge_some(workers: JudgeWorkers) -> tuple[list[str], list[dict]]:
    jobs = [JudgeJob(n, 1, 71, "print('ACCEPT')") for n in range(4)]
    verdicts = await asyncio.gather(*(workers.judge(job) for job in jobs))
    return [verdict.status.description for verdict in verdicts], await workers.stats()


def main() -> None:
    address = sys.argv[1]
    ray.init(address=address, _node_ip_address=DRIVER_NODE_IP, log_to_driver=False, namespace="pinning")
    wait_until(lambda: ray.cluster_resources().get("judge", 0) >= 2, "the judge node joined")
    # One worker more than the cluster has units of `judge`: it waits for a node, and gets no job.
    config = WorkerPoolConfig(namespace="pinning", engine=EngineConfig("test"), resource="judge", workers=3)
    workers = JudgeWorkers(config)
    workers.start()
    wait_until(lambda: len(workers.started()) >= 2, "two judge workers run")
    verdicts, stats = asyncio.run(judge_some(workers))
    judge_nodes = [node["NodeID"] for node in ray.nodes() if node["Alive"] and node["Resources"].get("judge")]
    report = {
        "layout": [workers.layout.workers, workers.layout.resource],
        "verdicts": verdicts,
        "worker_nodes": [worker["node_id"] for worker in stats],
        "started": workers.started(),
        "judged": sum(worker["judged"] for worker in stats),
        "judge_nodes": judge_nodes,
        "driver_node": ray.get_runtime_context().get_node_id(),
        "judge_units_free": ray.available_resources().get("judge", 0),
    }
    for index in range(workers.layout.workers):  # detached actors would hold up the node's drain on stop
        ray.kill(ray.get_actor(config.worker_name(index), namespace=config.namespace), no_restart=True)
    print(json.dumps(report))


if __name__ == "__main__":
    main()

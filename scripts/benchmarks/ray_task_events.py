"""`scripts/bench task-events`: what Ray's task events cost per actor call, PSS in bytes per call
in the caller, the actor's process and the GCS, with the events on (Ray's default) and off
(`enable_task_events=False`, as the server's hosts, directory and judge workers are declared)."""

from __future__ import annotations

import argparse
import asyncio
import os

import psutil
import ray


class Echo:
    async def echo(self, value: int) -> int:
        return value

    def pid(self) -> int:
        return os.getpid()


def gcs_pid() -> int:
    for process in psutil.Process().children(recursive=True):
        if "gcs_server" in " ".join(process.cmdline()):
            return process.pid
    raise RuntimeError("no GCS among this process's children")


async def bytes_per_call(task_events: bool, calls: int) -> dict[str, float]:
    actor = ray.remote(Echo).options(num_cpus=0, enable_task_events=task_events).remote()
    processes = {"caller": os.getpid(), "actor": await actor.pid.remote(), "GCS": gcs_pid()}

    def pss() -> dict[str, int]:
        return {name: psutil.Process(pid).memory_full_info().pss for name, pid in processes.items()}

    for _ in range(calls // 10):  # warm-up
        await actor.echo.remote(1)
    await asyncio.sleep(2)  # the events are reported once a second
    before = pss()
    for _ in range(calls):
        await actor.echo.remote(1)
    await asyncio.sleep(3)
    after = pss()
    ray.kill(actor)
    return {name: (after[name] - before[name]) / calls for name in processes}


def main() -> None:
    parser = argparse.ArgumentParser(prog="scripts/bench task-events", description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    args = parser.parse_args()
    ray.init(address="local", include_dashboard=False, log_to_driver=False, num_cpus=1,
             _system_config={"enable_worker_prestart": False, "num_workers_soft_limit": 0})  # fmt: skip
    for task_events in (True, False):
        figures = asyncio.run(bytes_per_call(task_events, args.calls))
        shown = ", ".join(f"{name} {value:.0f}" for name, value in figures.items())
        print(f"task events {'on ' if task_events else 'off'}: PSS bytes per call: {shown} ({args.calls} calls)")


if __name__ == "__main__":
    main()

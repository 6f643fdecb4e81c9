"""scripts/cluster-local: a Ray cluster of two nodes and N fronts on this machine.

It has the layout of a real deployment (cluster.yaml) without the machines, to try it and to
rehearse losing a node:

    up [--fronts N] [--ray-port P]  a Ray head on 127.0.0.2 (the fronts' node, where the
                                    directory lives), a second node on 127.0.0.3 that offers
                                    the `room_host` resource (room hosts open there), the
                                    database migrated and the question bank loaded, and N fronts
                                    (`peerprep serve`) on PORT, PORT+1, ...; returns once every
                                    front is ready
    status [--json]                 each process, the cluster's nodes and where each host runs
    stop-node                       stops the second node: Ray restarts its hosts on the head,
                                    and they wake their rooms (a failover drill)
    down                            stops the fronts, then the nodes

Settings come from the environment, as for `peerprep serve` (ACTOR_HOST_RESOURCE defaults to
`room_host` here). The state (pid files, logs, the cluster's Ray token) is kept in
DATA_DIR/cluster-local. The addresses 127.0.0.2 and 127.0.0.3 are loopback on Linux.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx

from api.settings import Settings, runtime_config
from ops.ray_nodes import (
    HEAD_IP,
    SECOND_NODE_IP,
    NodeSpec,
    NodeStartFailed,
    auth_environment,
    group_alive,
    launch_node,
    stop_group,
    wait_started,
)
from ops.serving import FrontNotReady, wait_ready

PEERPREP = [sys.executable, "-m", "api.cli"]
HOST_RESOURCE = "room_host"
DEFAULT_RAY_PORT = 6380
FRONT_READY_SECONDS = 180.0
FRONT_STOP_GRACE_SECONDS = 30.0


class ClusterError(Exception):
    """What went wrong, for the operator; the command exits with status 1."""


@dataclass(frozen=True)
class Layout:
    """Where the local cluster keeps its state, and what `up` recorded there."""

    directory: Path

    @classmethod
    def of(cls, settings: Settings) -> Layout:
        return cls(settings.data_dir.resolve() / "cluster-local")

    def pid_file(self, name: str) -> Path:
        return self.directory / f"{name}.pid"

    def log(self, name: str) -> Path:
        return self.directory / f"{name}.log"

    @property
    def state_file(self) -> Path:
        return self.directory / "cluster.json"

    @property
    def token_file(self) -> Path:
        return self.directory / "ray_token"

    def state(self) -> dict:
        if not self.state_file.exists():
            raise ClusterError(f"no local cluster recorded in {self.directory}: run `scripts/cluster-local up`")
        return json.loads(self.state_file.read_text())

    def auth(self) -> dict[str, str]:
        return auth_environment(self.token_file.read_text().strip())


def _start_ticks(pid: int) -> str | None:
    """The process's start time in clock ticks (Linux /proc), so that a recycled pid is not taken for it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()[19]


def _record(layout: Layout, name: str, process: subprocess.Popen) -> None:
    layout.pid_file(name).write_text(f"{process.pid} {_start_ticks(process.pid)}\n")


def _running_pid(layout: Layout, name: str) -> int | None:
    """The pid of a recorded process group that still runs as the process `up` started, else None."""
    try:
        pid_text, ticks = layout.pid_file(name).read_text().split()
    except (OSError, ValueError):
        return None
    pid = int(pid_text)
    if _start_ticks(pid) != ticks or not group_alive(pid):
        return None
    return pid


def _stop(layout: Layout, name: str, grace: float) -> bool:
    pid = _running_pid(layout, name)
    if pid is not None:
        stop_group(pid, grace)
    layout.pid_file(name).unlink(missing_ok=True)
    return pid is not None


def _front_names(count: int) -> list[str]:
    return [f"front-{index}" for index in range(1, count + 1)]


def _peerprep(command: str, env: dict[str, str], layout: Layout) -> None:
    done = subprocess.run([*PEERPREP, command], env=env, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise ClusterError(f"`peerprep {command}` failed:\n{done.stdout}{done.stderr}")
    with open(layout.log("setup"), "a") as log:
        log.write(done.stdout)


def up(settings: Settings, fronts: int, ray_port: int) -> None:
    layout = Layout.of(settings)
    if any(_running_pid(layout, name) for name in ("head", "node", *_recorded_fronts(layout))):
        raise ClusterError("a local cluster is already running here: `scripts/cluster-local down` first")
    layout.directory.mkdir(parents=True, exist_ok=True)
    auth = auth_environment()
    layout.token_file.unlink(missing_ok=True)
    with os.fdopen(os.open(layout.token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as token:
        token.write(auth["RAY_AUTH_TOKEN"])
    address = f"{HEAD_IP}:{ray_port}"
    urls = [f"http://{settings.host}:{settings.port + index}" for index in range(fronts)]
    layout.state_file.write_text(json.dumps({"address": address, "fronts": urls}))
    ray_env = {**os.environ, **auth}
    ray_env.pop("RAY_ADDRESS", None)
    nodes = {
        "head": NodeSpec(HEAD_IP, head_port=ray_port),
        "node": NodeSpec(SECOND_NODE_IP, join=address, resources={HOST_RESOURCE: 1}),
    }
    try:
        processes = {name: launch_node(spec, layout.log(name), ray_env) for name, spec in nodes.items()}
        for name, process in processes.items():
            _record(layout, name, process)
        front_env = {**ray_env, "RAY_ADDRESS": address, "RAY_NODE_IP": HEAD_IP}
        front_env.setdefault("ACTOR_HOST_RESOURCE", HOST_RESOURCE)
        for command in ("migrate", "seed-questions"):
            _peerprep(command, front_env, layout)
        for name, process in processes.items():
            wait_started(process, layout.log(name))
        started = []
        for index, (name, url) in enumerate(zip(_front_names(fronts), urls, strict=True)):
            with open(layout.log(name), "w") as log:
                process = subprocess.Popen(
                    [*PEERPREP, "serve"], env={**front_env, "PORT": str(settings.port + index)},
                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                )  # fmt: skip
            _record(layout, name, process)
            started.append((url, process, layout.log(name)))
        for url, process, log in started:
            try:
                wait_ready(f"{url}/ready", process, FRONT_READY_SECONDS, log)
            except FrontNotReady as error:
                raise ClusterError(f"{error}:\n{log.read_text()}") from None
    except BaseException:
        down(settings)
        raise
    print(f"cluster-local: Ray head {address}, second node {SECOND_NODE_IP} (resource {HOST_RESOURCE})")
    for url in urls:
        print(f"cluster-local: front {url}")
    print(f"cluster-local: logs and pid files in {layout.directory}")


def _recorded_fronts(layout: Layout) -> list[str]:
    return sorted(path.stem for path in layout.directory.glob("front-*.pid"))


def down(settings: Settings) -> None:
    layout = Layout.of(settings)
    stopped = [name for name in _recorded_fronts(layout) if _stop(layout, name, FRONT_STOP_GRACE_SECONDS)]
    stopped += [name for name in ("node", "head") if _stop(layout, name, grace=10.0)]
    print(f"cluster-local: stopped {', '.join(stopped) if stopped else 'nothing (nothing was running)'}")


def stop_node(settings: Settings) -> None:
    layout = Layout.of(settings)
    if not _stop(layout, "node", grace=10.0):
        raise ClusterError("the second node is not running")
    print(f"cluster-local: stopped the node on {SECOND_NODE_IP}; its hosts restart on the head")


def _cluster_view(settings: Settings, layout: Layout) -> dict:
    """The nodes as Ray sees them and each host's node and actors, from a short-lived Ray driver."""
    os.environ.update(layout.auth())  # read when Ray is imported
    import ray

    config = runtime_config(settings)
    ray.init(
        address=layout.state()["address"], _node_ip_address=HEAD_IP, namespace=config.namespace,
        include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR,
    )  # fmt: skip
    try:
        nodes = ray.nodes()
        ips = {node["NodeID"]: node["NodeManagerAddress"] for node in nodes}
        hosts = []
        prefix = config.actor_name("host-")
        for entry in ray.util.list_named_actors(all_namespaces=True):
            if entry["namespace"] != config.namespace or not entry["name"].startswith(prefix):
                continue
            handle = ray.get_actor(entry["name"], namespace=config.namespace)
            node_id, actor_ids = ray.get(handle.placement_record.remote(), timeout=60)
            hosts.append({"name": entry["name"], "nodeIp": ips.get(node_id), "actorIds": sorted(actor_ids)})
    finally:
        ray.shutdown()
    return {
        "nodes": [
            {"ip": node["NodeManagerAddress"], "alive": node["Alive"], "resources": node["Resources"]} for node in nodes
        ],
        "hosts": sorted(hosts, key=lambda host: host["name"]),
    }


def _front_status(url: str) -> str:
    try:
        response = httpx.get(f"{url}/ready", timeout=5)
    except httpx.TransportError:
        return "unreachable"
    return "ready" if response.status_code == 200 else f"not ready ({response.status_code})"


def status(settings: Settings, as_json: bool) -> None:
    layout = Layout.of(settings)
    state = layout.state()
    fronts = _recorded_fronts(layout)
    processes = {name: _running_pid(layout, name) for name in ("head", "node", *fronts)}
    report = {
        "address": state["address"],
        "processes": {name: {"pid": pid, "running": pid is not None} for name, pid in processes.items()},
        "fronts": {url: _front_status(url) for url in state["fronts"]},
    }
    if processes["head"] is not None:
        report |= _cluster_view(settings, layout)
    if as_json:
        print(json.dumps(report, indent=2))
        return
    for name, process in report["processes"].items():
        print(f"{name:10} {'running, pid ' + str(process['pid']) if process['running'] else 'stopped'}")
    for url, state_text in report["fronts"].items():
        print(f"front      {url}: {state_text}")
    for node in report.get("nodes", []):
        custom = sorted(set(node["resources"]) - {"CPU", "memory", "object_store_memory"})
        custom = [name for name in custom if not name.startswith("node:")]
        print(f"node       {node['ip']}: {'alive' if node['alive'] else 'dead'}; resources {', '.join(custom) or '-'}")
    for host in report.get("hosts", []):
        print(f"host       {host['name']} on {host['nodeIp']}: {len(host['actorIds'])} actors")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scripts/cluster-local", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("up", help="start the Ray head, a second node and the fronts")
    start.add_argument("--fronts", type=int, default=1, help="fronts (`peerprep serve`) to start (default 1)")
    start.add_argument("--ray-port", type=int, default=DEFAULT_RAY_PORT, help="the head's GCS port")
    show = commands.add_parser("status", help="what runs, and where the hosts are")
    show.add_argument("--json", action="store_true", help="as JSON")
    commands.add_parser("stop-node", help="stop the second node (failover drill)")
    commands.add_parser("down", help="stop everything")
    return parser


def main(argv: list[str] | None = None) -> int:
    from api.cli import load_settings

    args = _parser().parse_args(argv)
    settings = load_settings()
    try:
        if args.command == "up":
            if not 1 <= args.fronts <= 64:
                raise ClusterError("--fronts must be between 1 and 64")
            up(settings, args.fronts, args.ray_port)
        elif args.command == "status":
            status(settings, args.json)
        elif args.command == "stop-node":
            stop_node(settings)
        else:
            down(settings)
    except (ClusterError, NodeStartFailed) as error:
        print(f"cluster-local: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

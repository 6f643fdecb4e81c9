"""Start-up: join or start Ray quietly, find or start the directory's host, hand out a client and a bus."""

from __future__ import annotations

import logging
import signal
import threading

import ray

from actors.events.bus import EventBus
from actors.events.ray_transport import RayEventBus
from actors.events.redis_transport import RedisEventBus
from actors.events.subscriptions import Overflow
from actors.hosting.client import ActorClient
from actors.hosting.config import DIRECTORY_HOST, RuntimeConfig
from actors.hosting.ray_host import open_host

log = logging.getLogger("peerprep.actors.runtime")

# Ray's periodic checks that serve a multi-node cluster, an autoscaler or a full disk: on one
# node they find nothing, and at Ray's defaults (several times a second in the raylet, the
# GCS's resource-load pulls, health checks and event-loop probes) they are most of what the
# idle raylet and GCS cost (`scripts/bench ray-floor` measures both ways).
# A `RAY_ADDRESS` cluster keeps Ray's defaults: there they detect failures and move load.
SINGLE_NODE_CHECKS = {
    "local_fs_monitor_interval_ms": 1000,
    "raylet_check_gc_period_milliseconds": 1000,
    "kill_idle_workers_interval_ms": 1000,
    "object_manager_timer_freq_ms": 1000,
    "raylet_report_resources_period_milliseconds": 1000,
    "io_context_monitor_probe_interval_ms": 10_000,
    "gcs_pull_resource_loads_period_milliseconds": 10_000,
    "health_check_period_ms": 10_000,
    "ray_syncer_message_refresh_interval_ms": 10_000,
}
# Hosts run in processes of their own (num_cpus=0 actors); the task workers Ray prestarts
# and keeps idle are never used here, and each idle Ray worker process wakes 100 times a
# second. The raylet's memory monitor (Ray's OOM killer) reads memory four times a second by
# default; once a second keeps it, for less.
EMBEDDED_RAY_SYSTEM_CONFIG = {
    "enable_worker_prestart": False,
    "num_workers_soft_limit": 0,
    "memory_monitor_refresh_ms": 1000,
    **SINGLE_NODE_CHECKS,
}
# Helper processes an embedded head starts that this server never uses: the log monitor
# streams worker output to drivers (every front runs with `log_to_driver=False`) and polls
# the log folder ten times a second; the autoscaler's monitor has nothing to scale on one
# machine; with the dashboard off, the dashboard process still runs, for usage statistics
# only (`--minimal --modules-to-load=UsageStatsHead`). Together ~1 % of a core while idle.
# `ray.init` has no switch for them. The names are Ray's process types (ray_constants.PROCESS_TYPE_*).
UNUSED_EMBEDDED_PROCESSES = ("log_monitor", "monitor", "dashboard")


def start_ray(address: str | None, config: RuntimeConfig) -> bool:
    """`RAY_ADDRESS` joins a cluster; otherwise a small local Ray starts in this process.

    `address="local"` keeps an embedded run from attaching to some other Ray on the machine,
    and the embedded node listens on loopback unless `node_ip` says otherwise. A front
    joining a cluster names its own node's IP with `node_ip` where Ray cannot guess it.
    Worker logs stay out of the server's output. Returns whether this call started Ray.
    """
    if ray.is_initialized():
        return False
    options = dict(
        namespace=config.namespace,
        include_dashboard=False,
        log_to_driver=False,
        logging_level=config.ray_log_level,
    )
    keep_sigterm = threading.current_thread() is threading.main_thread()
    previous_sigterm = signal.getsignal(signal.SIGTERM) if keep_sigterm else None
    if address:
        ray.init(address=address, _node_ip_address=config.node_ip, **options)
    else:
        ray.init(
            address="local",
            object_store_memory=config.object_store_bytes,
            _node_ip_address=config.node_ip or "127.0.0.1",
            _system_config=EMBEDDED_RAY_SYSTEM_CONFIG,
            **options,
        )
        stop_unused_helpers()
    if keep_sigterm:
        # Ray's driver handler exits on the spot; the server's own (uvicorn's) shuts down gracefully.
        signal.signal(signal.SIGTERM, previous_sigterm)
    return True


def stop_unused_helpers() -> None:
    """Stop the embedded head's helper processes named in `UNUSED_EMBEDDED_PROCESSES`.

    Ray's node object is private API; where it is missing or refuses, the helpers keep
    running and only the idle CPU suffers.
    """
    node = getattr(ray._private.worker, "_global_node", None)
    for process in UNUSED_EMBEDDED_PROCESSES:
        try:
            node._kill_process_type(process, check_alive=False, wait=True)
        except Exception as error:  # an optimisation: never fail start-up for it
            log.debug("could not stop Ray's %s: %r", process, error)


def start_cluster_head(config: RuntimeConfig) -> tuple[str, str]:
    """Start Ray in this process as a head that other processes join: (its address, its node IP).

    `peerprep serve --workers N` runs it in the parent so that its workers share one cluster.
    """
    start_ray(None, config)
    return ray.get_runtime_context().gcs_address, ray.util.get_node_ip_address()


def connect(config: RuntimeConfig) -> ActorClient:
    """The directory's host (`host-0`) is started by the first front, on that front's node (soft
    affinity; Ray moves it if that node goes). It takes actors too where hosts may open."""
    directory = open_host(config, DIRECTORY_HOST, ray.get_runtime_context().get_node_id(), get_if_exists=True)
    return ActorClient(directory, config)


def event_bus(config: RuntimeConfig, client: ActorClient) -> EventBus:
    """Redis pub/sub when `redis_url` is set (any number of fronts), else long polls over Ray."""
    overflow = Overflow(config.overflow)
    if config.redis_url:
        return RedisEventBus(config.redis_url, config.prefix, config.subscriber_limit, overflow)
    return RayEventBus(client, config.subscriber_limit, overflow)


class ActorRuntime:
    """What a front holds: the client for messages and the bus for events."""

    def __init__(self, config: RuntimeConfig, client: ActorClient, bus: EventBus, owns_ray: bool) -> None:
        self.config = config
        self.client = client
        self.bus = bus
        self.owns_ray = owns_ray

    @classmethod
    async def start(cls, address: str | None, config: RuntimeConfig) -> ActorRuntime:
        owns_ray = start_ray(address, config)
        client = connect(config)
        bus = event_bus(config, client)
        await bus.start()
        return cls(config, client, bus, owns_ray)

    async def close(self) -> None:
        """Stop listening; shut down Ray too if this front started it (the embedded default)."""
        await self.bus.close()
        if self.owns_ray:
            ray.shutdown()

"""Start-up: join or start Ray quietly, find or create the directory, hand out a client."""

from __future__ import annotations

import logging

import ray

from actors.events.bus import EventBus
from actors.events.ray_transport import RayEventBus
from actors.events.redis_transport import RedisEventBus
from actors.hosting.client import ActorClient
from actors.hosting.config import RuntimeConfig
from actors.hosting.directory import RemoteDirectory


def start_ray(address: str | None, config: RuntimeConfig) -> None:
    """`RAY_ADDRESS` joins a cluster; otherwise a small local Ray starts in this process.

    `address="local"` keeps an embedded run from attaching to some other Ray on the machine.
    Worker logs stay out of the server's output.
    """
    if ray.is_initialized():
        return
    options = dict(
        namespace=config.namespace,
        include_dashboard=False,
        log_to_driver=False,
        logging_level=logging.WARNING,
    )
    if address:
        ray.init(address=address, **options)
    else:
        ray.init(address="local", object_store_memory=config.object_store_bytes, **options)


def connect(config: RuntimeConfig) -> ActorClient:
    directory = RemoteDirectory.options(
        name=config.directory_name,
        namespace=config.namespace,
        lifetime="detached",
        get_if_exists=True,
        max_restarts=-1,
        num_cpus=0,
    ).remote(config)
    return ActorClient(directory, config)


def event_bus(config: RuntimeConfig, client: ActorClient) -> EventBus:
    """Redis pub/sub when `redis_url` is set (any number of fronts), else long polls over Ray."""
    if config.redis_url:
        return RedisEventBus(config.redis_url, config.prefix)
    return RayEventBus(client)

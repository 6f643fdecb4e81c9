"""How the actor runtime is laid out on Ray; one picklable object shared by fronts, directory and hosts."""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from typing import Any

from actors.host import ActorFactory

DIRECTORY_HOST = "host-0"  # the host whose process also keeps the directory (actors/hosting/directory.py)


@dataclass(frozen=True)
class RuntimeConfig:
    namespace: str = "peerprep"
    prefix: str = ""
    factories: str = "actors.kinds:factories"
    factory_config: Any = None
    """What `factories` is called with in each host (the server's: `actors.kinds.KindsConfig`); picklable."""
    host_capacity: int = 10_000
    max_hosts_per_node: int = 4
    host_resource: str | None = None
    idle_timeout: float = 600.0
    sweep_interval: float = 30.0
    call_timeout: float = 10.0
    max_batches_in_flight: int = 2
    slow_batch_after: float = 0.100
    object_store_bytes: int = 100 * 1024 * 1024
    node_ip: str | None = None
    ray_log_level: int = logging.ERROR
    redis_url: str | None = None
    host_event_limit: int = 10_000
    subscriber_limit: int = 1000
    overflow: str = "drop-oldest"
    gc_gen0_threshold: int = 100_000

    def actor_name(self, name: str) -> str:
        return f"{self.prefix}{name}"

    @property
    def directory_name(self) -> str:
        """The Ray name of the host that keeps the directory."""
        return self.actor_name(DIRECTORY_HOST)


def load_factories(config: RuntimeConfig) -> dict[str, ActorFactory]:
    """Import `module:function` and call it as `function(factory_config, config)`: {kind: factory}.

    The runtime config says where the runtime lives (namespace, prefix), for kinds that start
    Ray actors of their own (the judge workers).
    """
    module_name, _, function_name = config.factories.partition(":")
    build = getattr(importlib.import_module(module_name), function_name)
    return build(config.factory_config, config)

"""One local Ray for the whole test session (it takes seconds to start)."""

from __future__ import annotations

import uuid

import pytest
import ray

from actors.hosting.config import RuntimeConfig
from actors.hosting.runtime import connect, start_ray


@pytest.fixture(scope="session")
def ray_session():
    start_ray(None, RuntimeConfig(object_store_bytes=80 * 1024 * 1024))
    yield
    ray.shutdown()


def _kill_named(config: RuntimeConfig) -> None:
    for name in ray.util.list_named_actors():
        if name.startswith(config.prefix):
            try:
                ray.kill(ray.get_actor(name, namespace=config.namespace), no_restart=True)
            except ValueError:
                pass


@pytest.fixture
def runtime_factory(ray_session, tmp_path):
    """Clients on a runtime of their own (a fresh name prefix), torn down after the test."""
    configs = []

    def make(**overrides):
        values = dict(
            prefix=f"t{uuid.uuid4().hex[:8]}-",
            factories="tests.actors.kinds:factories",
            factory_config={"path": str(tmp_path / "counters.db")},
            call_timeout=10.0,
        )
        values.update(overrides)
        config = RuntimeConfig(**values)
        configs.append(config)
        return connect(config), config

    yield make
    for config in configs:
        _kill_named(config)

"""Runtimes of their own for the hosting tests, on the session's Ray (tests/conftest.py)."""

from __future__ import annotations

import uuid

import pytest
import ray

from actors.hosting.config import RuntimeConfig
from actors.hosting.runtime import connect


def _kill_named(config: RuntimeConfig) -> None:
    for entry in ray.util.list_named_actors(all_namespaces=True):
        if entry["namespace"] == config.namespace and entry["name"].startswith(config.prefix):
            try:
                ray.kill(ray.get_actor(entry["name"], namespace=config.namespace), no_restart=True)
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

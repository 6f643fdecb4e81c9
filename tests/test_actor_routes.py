"""The front with the actor runtime on: readiness through Ray, and 503 when the runtime is gone."""

from __future__ import annotations

import uuid

import httpx
import ray

from actors.diagnostics import Ping
from api.app import create_app
from tests.conftest import make_settings


def _kill_runtime(namespace: str) -> None:
    for entry in ray.util.list_named_actors(all_namespaces=True):
        if entry["namespace"] == namespace:
            ray.kill(ray.get_actor(entry["name"], namespace=namespace), no_restart=True)


async def test_ready_goes_through_ray_and_a_dead_runtime_gives_503(ray_session, database_url, tmp_path):
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    settings = make_settings(
        database_url, tmp_path, actors_enabled=True, actor_namespace=namespace, actor_call_timeout_seconds=3
    )
    app = create_app(settings)

    @app.get("/probe")
    async def probe():
        return await app.state.services.actors.client.ask("probe:route", Ping())

    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                ready = await client.get("/ready")
                assert ready.status_code == 200, ready.text
                assert ready.json()["checks"] == {"database": "ok", "ray": "ok"}
                assert "pid" in (await client.get("/probe")).json()

                _kill_runtime(namespace)
                gone = await client.get("/probe")
                assert gone.status_code == 503
                assert gone.json()["error"].startswith("Service temporarily unavailable")
                assert gone.headers["Retry-After"] == "1"
                not_ready = await client.get("/ready")
                assert not_ready.status_code == 503
                assert not_ready.json()["checks"]["ray"].startswith("unavailable")
    finally:
        _kill_runtime(namespace)

"""The front with the actor runtime on: readiness through Ray, and 503 when the runtime is gone."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import ray

from actors.diagnostics import Ping
from api.app import create_app
from persistence.repositories import users
from tests.conftest import _empty_all_tables, make_settings


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
                # 503 while the first host's worker process starts on a busy machine, then ready.
                deadline = asyncio.get_running_loop().time() + 60
                while (ready := await client.get("/ready")).status_code != 200:
                    assert asyncio.get_running_loop().time() < deadline, ready.text
                    assert ready.json()["checks"]["database"] == "ok", ready.text
                    await asyncio.sleep(0.5)
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


async def test_admin_diagnostics_stream_a_probe_sequence_and_refuse_non_admins(ray_session, database_url, tmp_path):
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    settings = make_settings(database_url, tmp_path, actors_enabled=True, actor_namespace=namespace)
    await _empty_all_tables(database_url)
    app = create_app(settings)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=30) as client:
                await client.post(
                    "/users/register", json={"username": "ops", "email": "o@example.com", "password": "pw1"}
                )
                user_token = (
                    await client.post("/users/login", json={"email": "o@example.com", "password": "pw1"})
                ).cookies["jwt_access_token"]
                client.cookies.clear()
                user = {"Authorization": f"Bearer {user_token}"}
                assert (await client.post("/admin/probes/x/publish", headers=user)).status_code == 403
                assert (await client.get("/admin/events", params={"topic": "probe:x"}, headers=user)).status_code == 403

                services = app.state.services
                async with services.sessions() as session:
                    await users.update(session, await users.by_username(session, "ops"), role="ADMIN")
                admin_token = services.tokens.issue((await client.get("/users/me", headers=user)).json()["id"], "ADMIN")
                admin = {"Authorization": f"Bearer {admin_token}"}
                assert (await client.post("/admin/probes/bad name/publish", headers=admin)).status_code == 400
                subscription = await services.actors.bus.subscribe("probe:x")
                answer = await client.post("/admin/probes/x/publish", params={"count": 25}, headers=admin)
                assert answer.json() == {"topic": "probe:x", "published": 25}
                seen = [await asyncio.wait_for(subscription.get(), 10) for _ in range(25)]
                assert [event["seq"] for event in seen] == list(range(25))
                subscription.close()
    finally:
        _kill_runtime(namespace)

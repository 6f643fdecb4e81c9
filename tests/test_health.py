"""Liveness and readiness, with real Redis when configured."""

from __future__ import annotations

import gc

import httpx

from api.app import create_app
from tests.conftest import make_settings
from tests.services import free_port


async def _ready(settings) -> httpx.Response:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            return await client.get("/ready")


async def test_health(harness):
    response = await harness.client.get("/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_ready_without_redis_checks_the_database(harness):
    response = await harness.client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok"}}


async def test_ready_with_real_redis(database_url, tmp_path, redis_url):
    response = await _ready(make_settings(database_url, tmp_path, redis_url=redis_url))
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "redis": "ok"}


async def test_not_ready_when_redis_is_unreachable(database_url, tmp_path):
    dead = f"redis://127.0.0.1:{free_port()}/0"
    response = await _ready(make_settings(database_url, tmp_path, redis_url=dead))
    assert response.status_code == 503
    body = response.json()
    assert body["error"] == "Not ready: redis"
    assert body["checks"]["database"] == "ok" and body["checks"]["redis"].startswith("unavailable")


async def test_the_front_sets_the_young_gc_threshold_it_is_configured_with(database_url, tmp_path):
    before = gc.get_threshold()
    app = create_app(make_settings(database_url, tmp_path, gc_gen0_threshold=54_321))
    try:
        async with app.router.lifespan_context(app):
            assert gc.get_threshold() == (54_321, *before[1:])
    finally:
        gc.set_threshold(*before)

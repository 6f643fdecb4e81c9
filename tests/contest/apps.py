"""A contest front on real Ray for HTTP-level tests, and the steps every contest test takes."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from contextlib import asynccontextmanager

import httpx
import ray

from api.app import create_app
from judge.languages import LANGUAGES
from persistence.bank import load_bank, seed_questions, upsert_languages
from persistence.database import create_engine, session_factory
from tests.conftest import _empty_all_tables, bearer, make_settings

_user_ids = itertools.count(900_000 + uuid.uuid4().int % 50_000)


async def seed_contest_database(database_url: str) -> None:
    """Empty tables, the languages and the question bank (every question judgeable)."""
    await _empty_all_tables(database_url)
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        await upsert_languages(session, [(spec.judge0_id, spec.key, spec.name) for spec in LANGUAGES])
        await seed_questions(session, load_bank())
    await engine.dispose()


def kill_namespace(namespace: str) -> None:
    for entry in ray.util.list_named_actors(all_namespaces=True):
        if entry["namespace"] == namespace:
            ray.kill(ray.get_actor(entry["name"], namespace=namespace), no_restart=True)


@asynccontextmanager
async def contest_app(database_url: str, data_dir, **overrides):
    """(HTTP client, app) for a front with its own actor runtime, dev login and the test judge."""
    await seed_contest_database(database_url)
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    values = dict(actors_enabled=True, actor_namespace=namespace, dev_login=True, judge_backend="test")
    settings = make_settings(database_url, data_dir, **(values | overrides))
    app = create_app(settings)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                yield client, app
    finally:
        kill_namespace(namespace)


async def login(api: httpx.AsyncClient) -> tuple[int, dict]:
    """A fresh user id and its bearer header, through the seed's dev login."""
    user_id = next(_user_ids)
    response = await api.post(f"/auth/login?userId={user_id}")
    assert response.status_code == 200, response.text
    return user_id, bearer(response.json()["token"])


async def started_room(api: httpx.AsyncClient):
    """(room id, (host, auth), (guest, auth), problem ids) of a contest that has just started."""
    (host, host_auth), (guest, guest_auth) = await login(api), await login(api)
    room = (await api.post("/rooms/create?password=7777", headers=host_auth)).json()
    assert (await api.post(f"/rooms/join?roomId={room['id']}&password=7777", headers=guest_auth)).status_code == 200
    assert (await api.post(f"/rooms/start?roomId={room['id']}", headers=host_auth)).text == "Contest started"
    detail = (await api.get(f"/rooms/{room['id']}", headers=host_auth)).json()
    return room["id"], (host, host_auth), (guest, guest_auth), [problem["id"] for problem in detail["problems"]]


async def verdicts_settle(api: httpx.AsyncClient, room_id: int, auth: dict, count: int, patience: float = 30.0):
    """The room detail once `count` of the caller's submissions have a final verdict."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    while True:
        response = await api.get(f"/rooms/{room_id}", headers=auth)
        if response.status_code == 200:
            detail = response.json()
            if sum(s["status"]["id"] > 2 for s in detail["submissions"]) >= count:
                return detail
        if loop.time() > deadline:
            raise AssertionError(f"{count} verdicts did not arrive: {response.text}")
        await asyncio.sleep(0.05)


@asynccontextmanager
async def contest_server(database_url: str, data_dir, **overrides):
    """(base URL, HTTP client, app) of a front served by uvicorn with its own runtime, on the
    `port` setting when one is given (else a free port)."""
    from tests.js_clients import live_server

    await seed_contest_database(database_url)
    namespace = f"test-live-{uuid.uuid4().hex[:8]}"
    values = dict(actors_enabled=True, actor_namespace=namespace, dev_login=True, judge_backend="test")
    app = create_app(make_settings(database_url, data_dir, **(values | overrides)))
    try:
        port = overrides.get("port", 0)
        async with live_server(app, port) as base_url, httpx.AsyncClient(base_url=base_url, timeout=30) as http:
            yield base_url, http, app
    finally:
        kill_namespace(namespace)

"""Shared fixtures: the same suite runs against SQLite and PostgreSQL; Redis is real."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import ray
from sqlalchemy import text

from api.app import create_app
from api.settings import Settings
from persistence.database import create_engine, is_sqlite, session_factory
from persistence.migrate import upgrade
from persistence.models import Base, CollabSession
from persistence.repositories import users
from tests.services import PostgresServer, RedisServer, Unavailable

TEST_SECRET = "test-secret-" + "x" * 60


@pytest.fixture(scope="session")
def postgres_server():
    try:
        server = PostgresServer()
    except Unavailable as reason:
        pytest.skip(f"PostgreSQL unavailable: {reason}")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def ray_session():
    """One local Ray for the whole test session (it takes seconds to start)."""
    from actors.hosting.config import RuntimeConfig
    from actors.hosting.runtime import start_ray

    start_ray(None, RuntimeConfig(object_store_bytes=80 * 1024 * 1024))
    yield
    ray.shutdown()


@pytest.fixture(scope="session")
def redis_url():
    try:
        server = RedisServer()
    except Unavailable as reason:
        pytest.skip(f"Redis unavailable: {reason}")
    yield server.url
    server.stop()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory) -> str:
    """A migrated, empty database of each backend, shared by the session's tests."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('sqlite') / 'peerprep.db'}"
        upgrade(url)
        yield url
        return
    server = request.getfixturevalue("postgres_server")
    name = f"peerprep_test_{uuid.uuid4().hex[:12]}"
    url = server.create_database(name)
    try:
        upgrade(url)
        yield url
    finally:
        server.drop_database(name)


async def _empty_all_tables(url: str) -> None:
    engine = create_engine(url)
    tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
    async with engine.begin() as connection:
        if is_sqlite(url):
            for table in tables:
                await connection.execute(text(f"DELETE FROM {table}"))
            await connection.execute(text("DELETE FROM sqlite_sequence"))  # as RESTART IDENTITY does
        else:
            await connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    await engine.dispose()


AUTH_LIMITS = (
    "login_failures_per_ip",
    "login_failures_per_account",
    "register_attempts_per_ip",
    "register_attempts_per_email",
    "refresh_failures_per_ip",
    "refreshes_per_account",
    "room_join_failures_per_ip",
    "room_join_failures_per_account",
)
GENEROUS_AUTH_LIMITS = dict.fromkeys(AUTH_LIMITS, 100_000)
"""Every test client is one IP: the suite registers and logs in far more than one person would."""
REALISTIC_AUTH_LIMITS = {name: Settings.model_fields[name].default for name in AUTH_LIMITS}
"""The defaults, for the tests of the limits themselves."""


def make_settings(database_url: str, data_dir: Path, **overrides) -> Settings:
    values = dict(
        **GENEROUS_AUTH_LIMITS,
        database_url=database_url,
        data_dir=data_dir,
        jwt_secret=TEST_SECRET,
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        log_level="warning",
        actors_enabled=False,
    )
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
async def settings(database_url, tmp_path) -> Settings:
    await _empty_all_tables(database_url)
    return make_settings(database_url, tmp_path)


@dataclass
class Harness:
    """An app on a clean database, with an HTTP client and a way to reach the database."""

    app: object
    client: httpx.AsyncClient
    settings: Settings

    async def register(self, username: str, password: str = "pw-123") -> dict:
        response = await self.client.post(
            "/users/register",
            json={"username": username, "email": f"{username}@example.com", "password": password},
        )
        assert response.status_code == 201, response.text
        return response.json()

    async def token_for(self, username: str, password: str = "pw-123") -> str:
        """Register (if needed) and log in; returns the access token from the cookie."""
        if (await self.client.post("/users/login", json=self._login(username, password))).status_code != 200:
            await self.register(username, password)
        response = await self.client.post("/users/login", json=self._login(username, password))
        assert response.status_code == 200, response.text
        token = response.cookies["jwt_access_token"]
        self.client.cookies.clear()
        return token

    async def admin_token(self, username: str = "admin") -> str:
        await self.token_for(username)
        async with self.sessions() as session:
            user = await users.by_username(session, username)
            await users.update(session, user, role="ADMIN")
        return await self.token_for(username)

    @staticmethod
    def _login(username: str, password: str) -> dict:
        return {"email": f"{username}@example.com", "password": password}

    def sessions(self):
        return self.app.state.services.sessions()

    async def collab_session(self, session_id: str, question_id: int, first: str, second: str) -> None:
        """A collab session row between two registered users (the collab API comes later)."""
        async with self.sessions() as session:
            one = await users.by_username(session, first)
            two = await users.by_username(session, second)
            session.add(
                CollabSession(
                    id=session_id,
                    topic="Arrays",
                    difficulty="Easy",
                    question_id=question_id,
                    language="python",
                    user1_id=one.id,
                    user2_id=two.id,
                )
            )
            await session.commit()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def cookie(name: str, value: str) -> dict:
    """A `Cookie` header for one request (httpx's per-request cookies are deprecated)."""
    return {"Cookie": f"{name}={value}"}


@pytest.fixture
async def harness(settings) -> AsyncIterator[Harness]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Harness(app=app, client=client, settings=settings)


@pytest.fixture
async def db_sessions(settings):
    engine = create_engine(settings.database)
    yield session_factory(engine)
    await engine.dispose()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    skipped = terminalreporter.stats.get("skipped", [])
    if not skipped:
        return
    terminalreporter.write_sep("!", f"{len(skipped)} TESTS WERE SKIPPED", red=True, bold=True)
    for report in skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        terminalreporter.write_line(f"SKIPPED {report.nodeid}: {reason}", red=True)

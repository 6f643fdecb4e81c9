"""Login, register, refresh and room-join floods against the default limits (429 + Retry-After)."""

from __future__ import annotations

import secrets

import httpx
import pytest

from api.app import create_app
from tests.conftest import REALISTIC_AUTH_LIMITS, make_settings

DEFAULTS = REALISTIC_AUTH_LIMITS


@pytest.fixture
async def client(settings, tmp_path):
    app = create_app(make_settings(settings.database_url, tmp_path, **DEFAULTS))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


def assert_locked_out(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert int(response.headers["Retry-After"]) >= 1
    assert response.json()["error"].startswith("Too many attempts")


async def register(client, name: str, ip_headers: dict | None = None) -> httpx.Response:
    body = {"username": name, "email": f"{name}@example.com", "password": "right-pw-1"}
    return await client.post("/users/register", json=body, headers=ip_headers)


async def test_login_brute_force_locks_the_account_even_for_the_right_password(client):
    assert (await register(client, "victim")).status_code == 201
    for _ in range(DEFAULTS["login_failures_per_account"]):
        wrong = await client.post("/users/login", json={"email": "victim@example.com", "password": "guess"})
        assert wrong.status_code == 401
    right = await client.post("/users/login", json={"email": "VICTIM@example.com", "password": "right-pw-1"})
    assert_locked_out(right)


async def test_login_spread_over_accounts_locks_the_ip_and_a_valid_login_does_not_reset_it(client):
    assert (await register(client, "mallory")).status_code == 201
    for n in range(DEFAULTS["login_failures_per_ip"] - 1):
        wrong = await client.post("/users/login", json={"email": f"user{n}@example.com", "password": "guess"})
        assert wrong.status_code == 401
        if n == 10:  # the attacker's own account, logged into mid-way
            own = await client.post("/users/login", json={"email": "mallory@example.com", "password": "right-pw-1"})
            assert own.status_code == 200
    last = await client.post("/users/login", json={"email": "someone@example.com", "password": "guess"})
    assert last.status_code == 401
    own = {"email": "mallory@example.com", "password": "right-pw-1"}
    assert_locked_out(await client.post("/users/login", json=own))


async def test_register_flood_from_one_ip(client):
    for n in range(DEFAULTS["register_attempts_per_ip"]):
        assert (await register(client, f"bot{n}")).status_code == 201
    assert_locked_out(await register(client, "one-more"))


async def test_refresh_flood_with_bogus_tokens(client):
    for _ in range(DEFAULTS["refresh_failures_per_ip"]):
        bogus = await client.post("/users/refresh", headers={"Cookie": "jwt_refresh_token=guess"})
        assert bogus.status_code == 401
    assert_locked_out(await client.post("/users/refresh", headers={"Cookie": "jwt_refresh_token=guess"}))


async def test_fronts_sharing_redis_share_the_lockout(settings, tmp_path, redis_url):
    """Two fronts (two apps, as two uvicorn workers would be) on one Redis: failures on either count."""
    fronts = [create_app(make_settings(settings.database_url, tmp_path, redis_url=redis_url, **DEFAULTS)) for _ in "ab"]
    async with fronts[0].router.lifespan_context(fronts[0]), fronts[1].router.lifespan_context(fronts[1]):
        # Redis outlives the test: a fresh client IP and account each run, so earlier runs count nothing.
        ip, name = f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.1", f"shared-{secrets.token_hex(4)}"
        clients = [
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(ip, 1234)), base_url="http://testserver")
            for app in fronts
        ]
        assert (await register(clients[0], name)).status_code == 201
        for n in range(DEFAULTS["login_failures_per_account"]):
            wrong = await clients[n % 2].post("/users/login", json={"email": f"{name}@example.com", "password": "x"})
            assert wrong.status_code == 401
        for client in clients:
            body = {"email": f"{name}@example.com", "password": "right-pw-1"}
            assert_locked_out(await client.post("/users/login", json=body))
            await client.aclose()


async def test_refresh_flood_with_a_valid_token_is_bounded_per_account(client):
    assert (await register(client, "looper")).status_code == 201
    login = await client.post("/users/login", json={"email": "looper@example.com", "password": "right-pw-1"})
    token = login.cookies.get("jwt_refresh_token", path="/user")
    client.cookies.clear()
    for _ in range(DEFAULTS["refreshes_per_account"]):
        rotated = await client.post("/users/refresh", headers={"Cookie": f"jwt_refresh_token={token}"})
        assert rotated.status_code == 200
        token = rotated.cookies.get("jwt_refresh_token", path="/user")
        client.cookies.clear()
    assert_locked_out(await client.post("/users/refresh", headers={"Cookie": f"jwt_refresh_token={token}"}))

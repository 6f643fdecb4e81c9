"""Users API: registration, uniqueness, login, self-only updates."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher

from persistence.repositories import users
from tests.conftest import bearer


async def test_register_returns_seed_shaped_user(harness):
    response = await harness.client.post(
        "/users/register",
        json={"username": "johndoe", "email": "JohnDoe@Example.com", "password": "mySecureP@ssw0rd"},
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "username", "email", "isAdmin", "createdAt", "updatedAt"}
    assert isinstance(body["id"], str) and body["id"].isdigit()
    assert body["email"] == "johndoe@example.com"
    assert body["isAdmin"] is False
    assert body["createdAt"].endswith("Z")
    assert "password" not in response.text and "mySecureP@ssw0rd" not in response.text


async def test_duplicate_username_and_email_are_409(harness):
    await harness.register("ivan")
    same_name = await harness.client.post(
        "/users/register", json={"username": "ivan", "email": "other@example.com", "password": "abc"}
    )
    same_email = await harness.client.post(
        "/users/register", json={"username": "ivan2", "email": "IVAN@example.com", "password": "abc"}
    )
    assert (same_name.status_code, same_name.json()) == (409, {"error": "Username already exists"})
    assert (same_email.status_code, same_email.json()) == (409, {"error": "Email already exists"})


async def test_concurrent_registrations_with_one_email_exactly_one_wins(harness):
    async def attempt(index: int):
        return await harness.client.post(
            "/users/register",
            json={"username": f"racer{index}", "email": "race@example.com", "password": "abc"},
        )

    responses = await asyncio.gather(*[attempt(index) for index in range(8)])
    codes = sorted(response.status_code for response in responses)
    assert codes == [201] + [409] * 7
    assert all(r.json() == {"error": "Email already exists"} for r in responses if r.status_code == 409)


async def test_register_validation_gives_400_with_details(harness):
    cases = [
        {"username": "ab", "email": "a@example.com", "password": "abc"},
        {"username": "abc", "email": "not-an-email", "password": "abc"},
        {"username": "abc", "email": "a@example.com", "password": "ab"},
        {"username": "abc", "email": "a@example.com"},
        {"username": 123, "email": "a@example.com", "password": "abc"},
    ]
    for body in cases:
        response = await harness.client.post("/users/register", json=body)
        assert response.status_code == 400, body
        assert response.json()["error"].startswith("Invalid request")
        assert response.json()["details"]


async def test_login_wrong_password_and_unknown_email_are_401(harness):
    await harness.register("judy")
    wrong = await harness.client.post("/users/login", json={"email": "judy@example.com", "password": "nope"})
    unknown = await harness.client.post("/users/login", json={"email": "ghost@example.com", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"error": "Invalid email or password"}


async def test_unknown_email_and_passwordless_account_cost_a_full_verification(harness, monkeypatch):
    """No timing assertion: Argon2's verify runs for a known email, an unknown one, and an account
    with no password, so all three cost the same."""
    await harness.register("vera")
    async with harness.sessions() as session:
        await users.create(session, username="nopass", email="nopass@example.com", password_hash=None)
    verified = []
    real_verify = PasswordHasher.verify

    def spy(self, stored, password):
        verified.append(stored)
        return real_verify(self, stored, password)

    monkeypatch.setattr(PasswordHasher, "verify", spy)
    for email in ("vera@example.com", "ghost@example.com", "nopass@example.com"):
        response = await harness.client.post("/users/login", json={"email": email, "password": "nope"})
        assert response.status_code == 401
    assert len(verified) == 3 and all(stored.startswith("$argon2") for stored in verified)


async def test_get_user_by_id(harness):
    token = await harness.token_for("kim")
    other = await harness.register("leo")
    response = await harness.client.get(f"/users/{other['id']}", headers=bearer(token))
    assert response.status_code == 200 and response.json()["username"] == "leo"
    assert (await harness.client.get("/users/999999", headers=bearer(token))).status_code == 404
    assert (await harness.client.get("/users/abc", headers=bearer(token))).status_code == 400


async def test_another_users_email_is_shown_only_to_them_and_admins(harness):
    kim = await harness.token_for("kim")
    leo = await harness.token_for("leo")
    admin = await harness.admin_token()
    async with harness.sessions() as session:
        leo_id = (await users.by_username(session, "leo")).id
    for prefix in ("/users", "/user"):
        seen_by_kim = (await harness.client.get(f"{prefix}/{leo_id}", headers=bearer(kim))).json()
        assert seen_by_kim["username"] == "leo" and "email" not in seen_by_kim
        for token in (leo, admin):
            whole = (await harness.client.get(f"{prefix}/{leo_id}", headers=bearer(token))).json()
            assert whole["email"] == "leo@example.com"


async def test_update_is_self_only(harness):
    mallory = await harness.token_for("mallory")
    victim = await harness.register("victim")
    response = await harness.client.patch(
        f"/users/{victim['id']}",
        headers=bearer(mallory),
        json={"currentPassword": "pw-123", "newUsername": "owned"},
    )
    assert response.status_code == 403
    admin = await harness.admin_token()
    by_admin = await harness.client.patch(
        f"/users/{victim['id']}",
        headers=bearer(admin),
        json={"currentPassword": "pw-123", "newUsername": "owned"},
    )
    assert by_admin.status_code == 403
    me = await harness.client.get(f"/users/{victim['id']}", headers=bearer(mallory))
    assert me.json()["username"] == "victim"


async def test_update_own_account(harness):
    token = await harness.token_for("nina")
    me = (await harness.client.get("/users/me", headers=bearer(token))).json()
    path = f"/users/{me['id']}"
    nothing = await harness.client.patch(path, headers=bearer(token), json={"currentPassword": "pw-123"})
    assert nothing.status_code == 400
    wrong = await harness.client.patch(
        path, headers=bearer(token), json={"currentPassword": "bad", "newUsername": "nina2"}
    )
    assert wrong.status_code == 401
    await harness.register("taken")
    clash = await harness.client.patch(
        path, headers=bearer(token), json={"currentPassword": "pw-123", "newUsername": "taken"}
    )
    assert clash.status_code == 409
    ok = await harness.client.patch(
        path,
        headers=bearer(token),
        json={
            "currentPassword": "pw-123",
            "newUsername": "nina2",
            "newEmail": "nina2@example.com",
            "newPassword": "newpw",
        },
    )
    assert ok.status_code == 200
    assert ok.json() == {"id": me["id"], "username": "nina2", "email": "nina2@example.com", "isAdmin": False}
    relogin = await harness.client.post("/users/login", json={"email": "nina2@example.com", "password": "newpw"})
    assert relogin.status_code == 200

"""Access tokens (HS256, pinned), refresh rotation, reuse detection, logout."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from sqlalchemy import select, update

from api.core.security import InvalidToken, TokenService
from persistence.models import RefreshToken
from persistence.repositories import refresh_tokens
from tests.conftest import TEST_SECRET, bearer, cookie


def refresh_cookie(response) -> str | None:
    """The refresh token a response set (the `/user` cookie; its `/users` twin holds the same)."""
    return response.cookies.get("jwt_refresh_token", path="/user")


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_issued_token_carries_sub_role_iat_exp():
    tokens = TokenService(TEST_SECRET, 900)
    claims = jwt.decode(tokens.issue(7, "ADMIN"), TEST_SECRET, algorithms=["HS256"])
    assert claims["sub"] == "7" and claims["role"] == "ADMIN"
    assert claims["exp"] - claims["iat"] == 900
    verified = tokens.verify(tokens.issue(7, "ADMIN"))
    assert (verified.user_id, verified.is_admin) == (7, True)


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(
            lambda now: jwt.encode({"sub": "1", "role": "USER", "iat": now, "exp": now - 1}, TEST_SECRET),
            id="expired",
        ),
        pytest.param(
            lambda now: jwt.encode({"sub": "1", "role": "ADMIN", "iat": now, "exp": now + 60}, "another-secret-" * 3),
            id="wrong-key",
        ),
        pytest.param(
            lambda now: jwt.encode({"sub": "1", "iat": now, "exp": now + 60}, TEST_SECRET, algorithm="HS512"),
            id="hs512",
        ),
        pytest.param(
            lambda now: ".".join(
                [
                    _b64({"alg": "none", "typ": "JWT"}),
                    _b64({"sub": "1", "role": "ADMIN", "iat": now, "exp": now + 60}),
                    "",
                ]
            ),
            id="alg-none",
        ),
        pytest.param(lambda now: jwt.encode({"role": "USER", "iat": now, "exp": now + 60}, TEST_SECRET), id="no-sub"),
        pytest.param(
            lambda now: jwt.encode({"sub": "1", "role": "ROOT", "iat": now, "exp": now + 60}, TEST_SECRET),
            id="bad-role",
        ),
    ],
)
def test_forged_tokens_are_refused(forge):
    now = int(datetime.now(UTC).timestamp())
    with pytest.raises(InvalidToken):
        TokenService(TEST_SECRET, 900).verify(forge(now))


async def test_tampered_payload_is_refused(harness):
    token = await harness.token_for("mallory")
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["role"] = "ADMIN"
    tampered = f"{header}.{_b64(claims)}.{signature}"
    response = await harness.client.get("/users/me", headers=bearer(tampered))
    assert response.status_code == 401
    assert response.json() == {"error": "Invalid token"}


async def test_expired_and_alg_none_tokens_get_401_on_routes(harness):
    now = datetime.now(UTC)
    expired = jwt.encode(
        {"sub": "1", "role": "USER", "iat": now - timedelta(hours=1), "exp": now - timedelta(minutes=1)},
        TEST_SECRET,
    )
    unsigned = f"{_b64({'alg': 'none'})}.{_b64({'sub': '1', 'role': 'ADMIN', 'iat': 1, 'exp': 2**40})}."
    for token in (expired, unsigned):
        response = await harness.client.get("/questions", headers=bearer(token))
        assert response.status_code == 401
        assert response.json()["error"] == "Invalid token"


async def test_no_credentials_is_401(harness):
    response = await harness.client.get("/users/me")
    assert response.status_code == 401
    assert response.json() == {"error": "Not authenticated"}


async def test_bearer_header_and_cookie_both_authenticate(harness):
    token = await harness.token_for("carol")
    by_header = await harness.client.get("/users/me", headers=bearer(token))
    by_cookie = await harness.client.get("/users/me", headers=cookie("jwt_access_token", token))
    assert by_header.status_code == by_cookie.status_code == 200
    assert by_header.json()["username"] == by_cookie.json()["username"] == "carol"


async def _login(harness, username: str) -> tuple[str, str]:
    await harness.register(username)
    response = await harness.client.post(
        "/users/login", json={"email": f"{username}@example.com", "password": "pw-123"}
    )
    assert response.status_code == 200
    access, refresh = response.cookies["jwt_access_token"], refresh_cookie(response)
    harness.client.cookies.clear()
    return access, refresh


async def _refresh(harness, refresh_token: str):
    harness.client.cookies.clear()
    response = await harness.client.post("/users/refresh", headers=cookie("jwt_refresh_token", refresh_token))
    harness.client.cookies.clear()
    return response


async def test_login_sets_httponly_cookies_with_refresh_scoped_to_users(harness):
    """One refresh cookie for each of the users API's prefixes (`/user`, the gateway's; `/users`), one token."""
    await harness.register("dave")
    response = await harness.client.post("/users/login", json={"email": "dave@example.com", "password": "pw-123"})
    set_cookies = response.headers.get_list("set-cookie")
    access = next(c for c in set_cookies if c.startswith("jwt_access_token="))
    refreshes = [c for c in set_cookies if c.startswith("jwt_refresh_token=")]
    assert "HttpOnly" in access and "Path=/" in access and "SameSite=lax" in access
    assert all("HttpOnly" in refresh and "SameSite=strict" in refresh for refresh in refreshes)
    assert sorted(refresh.split("Path=")[1].split(";")[0] for refresh in refreshes) == ["/user", "/users"]
    assert len({refresh.split(";")[0] for refresh in refreshes}) == 1


async def test_refresh_rotates_and_old_token_reuse_revokes_the_family(harness):
    _, first = await _login(harness, "erin")
    rotated = await _refresh(harness, first)
    assert rotated.status_code == 200
    assert rotated.json() == {"message": "Access token refreshed"}
    second = refresh_cookie(rotated)
    assert second != first
    new_access = rotated.cookies["jwt_access_token"]
    assert (await harness.client.get("/users/me", headers=bearer(new_access))).status_code == 200

    await _age_rotation(harness, first)  # past the grace for a concurrent duplicate
    reused = await _refresh(harness, first)
    assert reused.status_code == 401
    assert "reuse" in reused.json()["error"]
    # The reuse revoked the whole family: the legitimate successor is dead too.
    assert (await _refresh(harness, second)).status_code == 401


async def _age_rotation(harness, token: str) -> None:
    """Make `token`'s rotation an hour old."""
    async with harness.sessions() as session:
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.token_hash == refresh_tokens.digest(token))
            .values(rotated_at=datetime.now(UTC) - timedelta(hours=1))
        )
        await session.commit()


async def test_concurrent_refresh_with_one_token_rotates_once(harness):
    """The duplicates (a browser refreshing from several requests at once, as the PeerPrep
    frontend does) get an access token each, within the grace; the token is rotated once."""
    _, token = await _login(harness, "frank")
    responses = await asyncio.gather(*[_refresh(harness, token) for _ in range(4)])
    assert [r.status_code for r in responses] == [200] * 4
    successors = [refresh_cookie(r) for r in responses if refresh_cookie(r) is not None]
    assert len(successors) == 1 and successors[0] != token
    assert all("jwt_access_token" in r.cookies for r in responses)
    async with harness.sessions() as session:
        digest = refresh_tokens.digest(token)
        family = await session.scalar(select(RefreshToken.family_id).where(RefreshToken.token_hash == digest))
        tokens = (await session.scalars(select(RefreshToken).where(RefreshToken.family_id == family))).all()
    assert len(tokens) == 2 and all(stored.revoked_at is None for stored in tokens)


async def test_logout_revokes_refresh_token_and_clears_cookies(harness):
    access, refresh = await _login(harness, "grace")
    response = await harness.client.post(
        "/users/logout", headers={**bearer(access), **cookie("jwt_refresh_token", refresh)}
    )
    harness.client.cookies.clear()
    assert response.status_code == 200
    assert response.json() == {"message": "User logged out"}
    cleared = response.headers.get_list("set-cookie")
    assert any(c.startswith('jwt_access_token=""') or c.startswith("jwt_access_token=;") for c in cleared)
    assert (await _refresh(harness, refresh)).status_code == 401


async def test_logout_requires_authentication(harness):
    assert (await harness.client.post("/users/logout")).status_code == 401


async def test_unknown_or_missing_refresh_token_is_401(harness):
    assert (await _refresh(harness, "not-a-token")).status_code == 401
    assert (await harness.client.post("/users/refresh")).status_code == 401


async def test_password_change_revokes_existing_refresh_tokens(harness):
    access, refresh = await _login(harness, "heidi")
    me = (await harness.client.get("/users/me", headers=bearer(access))).json()
    changed = await harness.client.patch(
        f"/users/{me['id']}",
        headers=bearer(access),
        json={"currentPassword": "pw-123", "newPassword": "pw-456"},
    )
    assert changed.status_code == 200
    assert (await _refresh(harness, refresh)).status_code == 401


async def test_access_token_dies_at_logout_on_routes_and_socket_handshakes(harness):
    """Logout with the access token alone ends its login: the token is 401 on a route and refused by
    the STOMP CONNECT (every SockJS transport) and the collab handshakes (Hocuspocus, y-websocket);
    another login of the same user lives on."""
    from api.collab.documents import SessionDocuments
    from api.collab.ws.application import Denied
    from api.contest.feeds import RoomStompApplication
    from api.contest.stomp.application import Refused

    ended, _ = await _login(harness, "ivan")
    response = await harness.client.post("/users/login", json={"email": "ivan@example.com", "password": "pw-123"})
    other = response.cookies["jwt_access_token"]
    harness.client.cookies.clear()
    services = harness.app.state.services
    stomp, collab = RoomStompApplication(services), SessionDocuments(services)
    assert (await harness.client.get("/users/me", headers=bearer(ended))).status_code == 200
    assert (await stomp.authenticate(ended)).user_id is not None

    assert (await harness.client.post("/users/logout", headers=bearer(ended))).status_code == 200
    refused = await harness.client.get("/users/me", headers=bearer(ended))
    assert refused.status_code == 401 and refused.json() == {"error": "Invalid token"}
    with pytest.raises(Refused, match="Invalid token"):
        await stomp.authenticate(ended)
    with pytest.raises(Denied, match="invalid token"):
        await collab.authorize("a" * 24, ended)
    assert (await harness.client.get("/users/me", headers=bearer(other))).status_code == 200


async def test_logout_on_one_front_ends_the_token_on_another_within_the_cache_time(harness, tmp_path):
    """A second front (SESSION_CACHE_SECONDS=0 here; by default it may trust its cached answer for 5 s)."""
    from api.app import create_app
    from tests.conftest import make_settings

    access, _ = await _login(harness, "judith")
    second = create_app(make_settings(harness.settings.database_url, tmp_path, session_cache_seconds=0))
    async with second.router.lifespan_context(second):
        transport = httpx.ASGITransport(app=second)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            assert (await client.get("/users/me", headers=bearer(access))).status_code == 200
            assert (await harness.client.post("/users/logout", headers=bearer(access))).status_code == 200
            assert (await client.get("/users/me", headers=bearer(access))).status_code == 401


async def test_a_logged_out_token_is_refused_by_the_stomp_socket(settings):
    """Over a real socket: `/ws/websocket?token=` CONNECTs before logout, gets ERROR after it."""
    from websockets.asyncio.client import connect

    from api.app import create_app
    from api.contest.stomp.frames import Frame, encode_frame
    from tests.js_clients import live_server

    connect_frame = encode_frame(Frame("CONNECT", (("accept-version", "1.2"), ("heart-beat", "0,0")))).decode()

    async def stomp_answer(base_url: str, token: str) -> str:
        async with connect(f"{base_url.replace('http', 'ws')}/ws/websocket?token={token}") as websocket:
            await websocket.send(connect_frame)
            return (await websocket.recv()).partition("\n")[0]

    app = create_app(settings)
    async with live_server(app) as base_url, httpx.AsyncClient(base_url=base_url) as client:
        body = {"username": "kurt", "email": "kurt@example.com", "password": "pw-123"}
        assert (await client.post("/users/register", json=body)).status_code == 201
        login = await client.post("/users/login", json={"email": body["email"], "password": body["password"]})
        access = login.cookies["jwt_access_token"]
        client.cookies.clear()
        assert await stomp_answer(base_url, access) == "CONNECTED"
        assert (await client.post("/users/logout", headers=bearer(access))).status_code == 200
        assert await stomp_answer(base_url, access) == "ERROR"

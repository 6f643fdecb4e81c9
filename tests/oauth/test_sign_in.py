"""Sign-in with an OpenID provider, against a real one (`oidc-provider`): the whole redirect dance."""

from __future__ import annotations

import socket

import httpx
import pytest

from api.core.deps import ACCESS_COOKIE, REFRESH_COOKIE
from api.users.oidc import LOGIN_STATE_COOKIE
from tests.conftest import bearer
from tests.oauth.browser import SERVER, Landing
from tests.oauth.conftest import ALICE, CLIENT_ID, provider_spec, registration
from tests.oauth.provider import OidcProvider
from tests.services import free_port


@pytest.mark.parametrize("claims_in_id_token", [False, True], ids=["claims-from-userinfo", "claims-in-id-token"])
async def test_a_new_user_signs_in_and_can_use_every_route(sign_in_world, claims_in_id_token):
    async with sign_in_world(provider_spec(claimsInIdToken=claims_in_id_token)) as world:
        start = await world.browser.start()
        authorization = httpx.URL(start.headers["location"])
        assert authorization.params["code_challenge_method"] == "S256"
        assert {"code_challenge", "state", "nonce"} <= set(authorization.params)
        assert authorization.params["scope"] == "openid email profile"

        landing = await world.browser.sign_in("alice")

        assert landing.page == "oauth-success", (landing.params, world.failures)
        assert landing.params["email"] == ALICE["email"]
        user = await world.user(ALICE["email"])
        assert landing.params["userId"] == str(user.id)
        assert (user.username, user.display_name, user.provider, user.password_hash) == (
            "alice",
            "Alice Liddell",
            "GOOGLE",
            None,
        )
        cookies = landing.response.cookies
        assert cookies[ACCESS_COOKIE] == landing.params["token"]
        assert {c.path for c in cookies.jar if c.name == REFRESH_COOKIE} == {"/user", "/users"}

        client = world.browser.client
        me = await client.get(f"{SERVER}/users/me", headers=bearer(landing.params["token"]))
        assert (me.status_code, me.json()["email"]) == (200, ALICE["email"])
        assert (await client.get(f"{SERVER}/users/me")).status_code == 200  # the access cookie
        assert (await client.post(f"{SERVER}/users/refresh")).status_code == 200  # the refresh cookie
        patched = await client.patch(f"{SERVER}/users/{user.id}", json={"newPassword": "chosen-later"})
        assert patched.status_code == 200, patched.text
        login = await client.post(f"{SERVER}/users/login", json={"email": ALICE["email"], "password": "chosen-later"})
        assert login.status_code == 200


async def test_the_login_state_cookie_lives_as_long_as_configured(sign_in_world):
    async with sign_in_world(oidc_login_ttl_seconds=123) as world:
        start = await world.browser.start()
        set_cookie = start.headers["set-cookie"]
        assert set_cookie.startswith(f"{LOGIN_STATE_COOKIE}=")
        assert "Max-Age=123;" in set_cookie and "path=/auth;" in set_cookie and "samesite=lax" in set_cookie

        landing = await world.browser.sign_in("alice")
        assert landing.page == "oauth-success"
        assert LOGIN_STATE_COOKIE not in world.browser.client.cookies  # used up by the callback


async def test_a_squatted_email_is_not_signed_into(sign_in_world):
    """Someone registers the victim's address with a password first; the victim's Google sign-in
    is refused (no token, no link), so the squatter's password never opens the victim's account."""
    async with sign_in_world() as world:
        client = world.browser.client
        squatted = await client.post(
            f"{SERVER}/users/register", json={"username": "squatter", "email": ALICE["email"], "password": "pw-123"}
        )
        assert squatted.status_code == 201
        client.cookies.clear()

        landing = await world.browser.sign_in("alice")

        assert (landing.page, landing.params) == ("oauth-error", {"reason": "email_unproved"})
        assert ACCESS_COOKIE not in landing.response.cookies
        user = await world.user(ALICE["email"])
        assert (user.username, user.email_verified, user.display_name) == ("squatter", False, None)


async def test_the_owner_links_by_signing_in_with_the_password_first(sign_in_world):
    async with sign_in_world() as world:
        client = world.browser.client
        registered = await client.post(
            f"{SERVER}/users/register", json={"username": "alice_l", "email": ALICE["email"], "password": "pw-123"}
        )
        login = await client.post(f"{SERVER}/users/login", json={"email": ALICE["email"], "password": "pw-123"})
        assert login.status_code == 200  # the browser now holds her access cookie

        first = await world.browser.sign_in("alice")
        assert (first.page, first.params["userId"]) == ("oauth-success", registered.json()["id"])
        user = await world.user(ALICE["email"])
        assert (user.username, user.provider, user.display_name, user.email_verified) == (
            "alice_l",
            "LOCAL",
            "Alice Liddell",
            True,
        )

        client.cookies.clear()  # signed out: the proved email now signs in by itself
        await world.provider.set_account("alice", {**ALICE, "name": "Alice Pleasance Liddell"})
        again = await world.browser.sign_in("alice")
        assert (again.page, again.params["userId"]) == ("oauth-success", registered.json()["id"])
        user = await world.user(ALICE["email"])
        assert user.display_name == "Alice Pleasance Liddell"
        login = await client.post(f"{SERVER}/users/login", json={"email": ALICE["email"], "password": "pw-123"})
        assert login.status_code == 200


async def test_a_tampered_state_is_refused(sign_in_world):
    async with sign_in_world() as world:
        callback = await world.browser.to_callback("alice")
        tampered = callback.copy_set_param("state", callback.params["state"][:-2] + "xy")

        refused = await world.browser.land(tampered)

        assert (refused.page, refused.params) == ("oauth-error", {"reason": "invalid_state"})
        assert await world.user(ALICE["email"]) is None
        assert (await world.browser.land(callback)).page == "oauth-success"  # only the state was wrong


async def test_a_replayed_code_is_refused(sign_in_world):
    async with sign_in_world() as world:
        callback = await world.browser.to_callback("alice")
        login_state = world.browser.client.cookies[LOGIN_STATE_COOKIE]
        assert (await world.browser.land(callback)).page == "oauth-success"

        same_browser = await world.browser.land(callback)
        old_cookie = {"Cookie": f"{LOGIN_STATE_COOKIE}={login_state}"}
        with_the_old_cookie = await world.browser.land(callback, headers=old_cookie)

        assert same_browser.params == {"reason": "invalid_state"}  # the state was used up
        assert with_the_old_cookie.params == {"reason": "code_rejected"}  # the provider refuses a used code
        assert any("invalid_grant" in failure for failure in world.failures), world.failures
        await world.provider.stop()
        assert "authorization code already consumed" in await world.provider.stderr()


async def test_an_id_token_for_another_audience_is_refused(sign_in_world):
    # The provider answers lookups of our client id with another client's registration, so the ID
    # token it issues is for that client: a misbehaving provider, or a token meant for another app.
    spec = provider_spec(
        clients=[registration("another-app")], clientAliases={CLIENT_ID: "another-app"}, autoConsent=True
    )
    async with sign_in_world(spec) as world:
        refused = await world.browser.sign_in("alice")

        assert (refused.page, refused.params) == ("oauth-error", {"reason": "invalid_id_token"})
        assert any("'aud'" in failure for failure in world.failures), world.failures
        assert await world.user(ALICE["email"]) is None


@pytest.mark.parametrize(("clock_skew_seconds", "page"), [(60, "oauth-error"), (900, "oauth-success")])
async def test_an_expired_id_token_is_refused_beyond_the_clock_skew(sign_in_world, clock_skew_seconds, page):
    # The provider's clock runs 10 minutes behind: its one-minute ID token expired 9 minutes ago by ours.
    spec = provider_spec(clockSkewSeconds=-600, idTokenTtlSeconds=60)
    async with sign_in_world(spec, oidc_clock_skew_seconds=clock_skew_seconds) as world:
        landing = await world.browser.sign_in("alice")

        assert landing.page == page, (landing.params, world.failures)
        if page == "oauth-error":
            assert landing.params == {"reason": "invalid_id_token"}
            assert any("ExpiredTokenError" in failure for failure in world.failures), world.failures


async def test_an_unreachable_provider_at_the_start(sign_in_world):
    async with sign_in_world(issuer=f"http://127.0.0.1:{free_port()}") as world:
        landing = Landing.of(await world.browser.start())

        assert (landing.page, landing.params) == ("oauth-error", {"reason": "provider_unavailable"})
        assert any("ConnectError" in failure for failure in world.failures), world.failures


async def test_a_provider_that_goes_down_before_the_callback(sign_in_world):
    async with sign_in_world() as world:
        callback = await world.browser.to_callback("alice")
        await world.provider.stop()

        landing = await world.browser.land(callback)

        assert (landing.page, landing.params) == ("oauth-error", {"reason": "provider_unavailable"})
        assert await world.user(ALICE["email"]) is None


async def test_a_provider_that_does_not_answer_in_time(sign_in_world):
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts connections, never answers
        issuer = f"http://127.0.0.1:{silent.getsockname()[1]}"
        async with sign_in_world(issuer=issuer, oidc_timeout_seconds=0.2) as world:
            landing = Landing.of(await world.browser.start())

    assert (landing.page, landing.params) == ("oauth-error", {"reason": "provider_unavailable"})
    assert any("ReadTimeout" in failure for failure in world.failures), world.failures


async def test_a_provider_with_another_issuer_is_refused(sign_in_world):
    async with OidcProvider.start(provider_spec()) as provider:
        issuer = await provider.listening() + "/"  # the same provider, but not exactly its issuer
        async with sign_in_world(issuer=issuer) as world:
            landing = Landing.of(await world.browser.start())

    assert (landing.page, landing.params) == ("oauth-error", {"reason": "provider_error"})
    assert any("discovery names issuer" in failure for failure in world.failures), world.failures


async def test_a_wrong_client_secret_is_a_provider_error(sign_in_world):
    async with sign_in_world(oidc_client_secret="not-the-registered-secret") as world:
        landing = await world.browser.sign_in("alice")

        assert (landing.page, landing.params) == ("oauth-error", {"reason": "provider_error"})
        assert any("invalid_client" in failure for failure in world.failures), world.failures


@pytest.mark.parametrize(("login", "reason"), [("mallory", "email_not_verified"), ("nomail", "email_missing")])
async def test_an_email_the_provider_does_not_vouch_for_is_refused(sign_in_world, login, reason):
    async with sign_in_world() as world:
        landing = await world.browser.sign_in(login)

        assert (landing.page, landing.params) == ("oauth-error", {"reason": reason})
        assert await world.user("mallory@example.com") is None
        assert REFRESH_COOKIE not in landing.response.cookies


async def test_denied_consent(sign_in_world):
    async with sign_in_world() as world:
        landing = await world.browser.sign_in("alice", consent=False)

        assert (landing.page, landing.params) == ("oauth-error", {"reason": "access_denied"})
        assert await world.user(ALICE["email"]) is None


async def test_without_a_client_id_the_sign_in_says_it_is_not_configured(sign_in_world):
    async with sign_in_world(
        issuer="https://accounts.google.com", oidc_client_id=None, oidc_client_secret=None
    ) as world:
        start = Landing.of(await world.browser.start())
        callback = Landing.of(await world.browser.client.get(f"{SERVER}/auth/oauth-success?code=x&state=y"))

    assert (start.page, start.params) == ("oauth-error", {"reason": "not_configured"})
    assert (callback.page, callback.params) == ("oauth-error", {"reason": "not_configured"})


async def test_the_sign_in_routes_are_documented_as_redirects(sign_in_world):
    async with sign_in_world(issuer="https://accounts.google.com") as world:
        paths = (await world.browser.client.get(f"{SERVER}/openapi.json")).json()["paths"]

    for path in ("/auth/oauth/google", "/auth/oauth-success"):
        assert "oauth-error?reason=" in paths[path]["get"]["responses"]["302"]["description"]

"""Fixtures of the sign-in tests: a real OpenID Provider, the app configured for it, a browser."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest

from api.app import create_app
from persistence.models import User
from persistence.repositories import users
from tests.conftest import make_settings
from tests.oauth.browser import CALLBACK, FRONTEND, Browser
from tests.oauth.provider import OidcProvider

CLIENT_ID = "peerprep"
CLIENT_SECRET = "peerprep-test-client-secret"
ALICE = {"email": "alice@example.com", "email_verified": True, "name": "Alice Liddell"}
ACCOUNTS = {
    "alice": ALICE,
    "mallory": {"email": "mallory@example.com", "email_verified": False, "name": "Mallory"},
    "nomail": {"name": "No Mail"},
}


def registration(client_id: str = CLIENT_ID) -> dict:
    """A client registered at the provider, as an operator registers this server."""
    return {"client_id": client_id, "client_secret": CLIENT_SECRET, "redirect_uris": [CALLBACK]}


def provider_spec(**fields) -> dict:
    return {"clients": [registration()], "accounts": ACCOUNTS, **fields}


@dataclass
class SignInWorld:
    app: object
    browser: Browser
    provider: OidcProvider | None
    failures: list[str]
    """`reason: detail` of every failed sign-in the server logged."""

    async def user(self, email: str) -> User | None:
        async with self.app.state.services.sessions() as session:
            return await users.by_email(session, email)


@contextlib.contextmanager
def logged_failures() -> Iterator[list[str]]:
    messages: list[str] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: messages.append(record.getMessage())
    logger = logging.getLogger("peerprep.oidc")
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)


@pytest.fixture
def sign_in_world(settings, tmp_path):
    """Starts a provider (`provider_spec()` unless given) and an app signing in with it.

    With `issuer=`, no provider is started: the app is pointed there (an unreachable one, say).
    Keyword arguments override the app's settings.
    """

    @contextlib.asynccontextmanager
    async def start(spec: dict | None = None, *, issuer: str | None = None, **overrides) -> AsyncIterator[SignInWorld]:
        async with contextlib.AsyncExitStack() as stack:
            provider = None
            if issuer is None:
                provider = await stack.enter_async_context(OidcProvider.start(spec or provider_spec()))
                issuer = await provider.listening()
            config = {
                "oidc_issuer": issuer,
                "oidc_client_id": CLIENT_ID,
                "oidc_client_secret": CLIENT_SECRET,
                "frontend_url": FRONTEND,
                **overrides,
            }
            app = create_app(make_settings(settings.database_url, tmp_path, **config))
            await stack.enter_async_context(app.router.lifespan_context(app))
            browser = await stack.enter_async_context(Browser(app))
            yield SignInWorld(app, browser, provider, stack.enter_context(logged_failures()))

    return start

"""Sign-in with an OpenID Connect provider (Google by default), through Authlib's Starlette client.

Authlib does discovery, the authorization-code flow with PKCE (S256), `state` and `nonce` (kept in
the signed login-state cookie), the code exchange and the ID token's checks: signature by a key of
the provider's JWKS, `iss`, `aud`, `exp` and `nonce`. This module adds what Authlib leaves to its
caller: the discovery document must name the configured issuer, an ID token is required, `aud` must
be our client id (Authlib only checks `azp`), claims the ID token lacks are read from UserInfo (for
the same `sub`), the email must be verified, and every failure becomes a `SignInFailed` whose
`reason` the frontend gets.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
from authlib.deprecate import AuthlibDeprecationWarning
from authlib.integrations.base_client.errors import MismatchingStateError

with warnings.catch_warnings():
    # Authlib 1.9 warns on import that it prefers the httpx2 fork; httpx is this project's client.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.starlette_client import OAuth, OAuthError
from joserfc.errors import JoseError
from starlette.requests import Request
from starlette.responses import RedirectResponse

from api.settings import Settings

SCOPE = "openid email profile"
GOOGLE_ISSUER = "https://accounts.google.com"
GOOGLE_ISSUER_ALIASES = ("accounts.google.com",)
"""Google documents that its ID tokens may name their issuer without the scheme."""
LOGIN_STATE_COOKIE = "peerprep_oidc_login"
LOGIN_STATE_PATH = "/auth"

REASONS = {
    "not_configured": "OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are not set",
    "access_denied": "the user declined (or the provider refused) the sign-in",
    "provider_error": "the provider answered with an error (e.g. a wrong client secret) or something unusable",
    "provider_unavailable": "the provider could not be reached, timed out or failed",
    "invalid_state": "the callback's state is not one this browser started (tampered, replayed or expired)",
    "code_rejected": "the provider refused to exchange the code (replayed or expired)",
    "invalid_id_token": "the ID token is missing or fails a check (signature, iss, aud, exp, nonce)",
    "email_missing": "the provider gave no email address",
    "email_not_verified": "the provider does not vouch for the email address",
    "email_unproved": "an account with this email exists whose email was never proved (registered with a password): "
    "sign in to it with the password, then start the sign-in again to link it",
    "server_error": "this server failed",
}
"""The `reason` values of `{FRONTEND_URL}/oauth-error?reason=`."""


class SignInFailed(Exception):
    """A sign-in that cannot complete: `reason` (one of REASONS) goes to the frontend, `detail` to the log."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in."""

    subject: str
    email: str
    name: str | None


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def login_state_cookie(settings: Settings) -> dict:
    """Starlette SessionMiddleware options for the cookie that carries a sign-in from start to callback.

    Its key is derived from the JWT key, so every front accepts it. SameSite=Lax: the provider's
    redirect back is a cross-site top-level GET, which Lax cookies accompany.
    """
    secret = hmac.new(settings.signing_key.encode(), b"peerprep oidc login state", hashlib.sha256).hexdigest()
    return {
        "secret_key": secret,
        "session_cookie": LOGIN_STATE_COOKIE,
        "max_age": settings.oidc_login_ttl_seconds,
        "path": LOGIN_STATE_PATH,
        "same_site": "lax",
        "https_only": settings.cookie_secure,
    }


@contextlib.contextmanager
def _talking_to_provider() -> Iterator[None]:
    try:
        yield
    except httpx.HTTPError as error:
        raise SignInFailed("provider_unavailable", f"{type(error).__name__}: {error}") from error
    except ValueError as error:
        raise SignInFailed("provider_error", f"unreadable answer: {error}") from error


class OidcSignIn:
    """One configured provider; its discovery document and JWKS are cached after their first fetch."""

    def __init__(self, settings: Settings) -> None:
        if not (settings.oidc_client_id and settings.oidc_client_secret):
            raise ValueError("OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are required")
        self.issuer = settings.oidc_issuer
        self.token_issuers = [self.issuer, *(GOOGLE_ISSUER_ALIASES if self.issuer == GOOGLE_ISSUER else ())]
        self.client_id = settings.oidc_client_id
        self.clock_skew_seconds = settings.oidc_clock_skew_seconds
        self._client = OAuth().register(
            "oidc",
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            server_metadata_url=discovery_url(settings.oidc_issuer),
            client_kwargs={
                "scope": SCOPE,
                "code_challenge_method": "S256",
                "timeout": settings.oidc_timeout_seconds,
            },
        )

    async def authorization_redirect(self, request: Request, redirect_uri: str) -> RedirectResponse:
        """The redirect to the provider's authorization endpoint; state, nonce and verifier go in the session."""
        with _talking_to_provider():
            await self._metadata()
            return await self._client.authorize_redirect(request, redirect_uri)

    async def identity(self, request: Request) -> Identity:
        """Completes the callback: checks state, exchanges the code, validates the ID token."""
        error = request.query_params.get("error")
        if error:
            reason = "access_denied" if error == "access_denied" else "provider_error"
            description = request.query_params.get("error_description", "")
            raise SignInFailed(reason, f"{error[:100]!r}: {description[:300]!r}")
        with _talking_to_provider():
            await self._metadata()
            token = await self._tokens(request)
            claims = dict(token["userinfo"])
            if "email" not in claims:
                claims = await self._with_userinfo(claims, token)
        return _identity(claims)

    async def _metadata(self) -> dict:
        metadata = await self._client.load_server_metadata()
        if metadata.get("issuer") != self.issuer:
            named = metadata.get("issuer")
            raise SignInFailed("provider_error", f"discovery names issuer {named!r}, not {self.issuer!r}")
        return metadata

    async def _tokens(self, request: Request) -> dict:
        """The token response; its `userinfo` holds the validated ID token's claims."""
        expected = {
            "iss": {"essential": True, "values": self.token_issuers},
            "aud": {"essential": True, "value": self.client_id},
        }
        try:
            token = await self._client.authorize_access_token(
                request, claims_options=expected, leeway=self.clock_skew_seconds
            )
        except MismatchingStateError as error:
            raise SignInFailed("invalid_state", str(error)) from error
        except OAuthError as error:
            reason = "code_rejected" if error.error == "invalid_grant" else "provider_error"
            raise SignInFailed(reason, str(error)) from error
        except JoseError as error:
            raise SignInFailed("invalid_id_token", f"{type(error).__name__}: {error}") from error
        if token.get("userinfo") is None:
            raise SignInFailed("invalid_id_token", "the token response has no ID token")
        return token

    async def _with_userinfo(self, claims: dict, token: dict) -> dict:
        """The ID token's claims completed by the UserInfo endpoint's, which must be about the same `sub`."""
        info = await self._client.userinfo(token=token)
        if info.get("sub") != claims["sub"]:
            raise SignInFailed("provider_error", "UserInfo describes another subject than the ID token")
        return {**info, **claims}


def _identity(claims: dict) -> Identity:
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise SignInFailed("email_missing", "no email claim in the ID token or UserInfo")
    if claims.get("email_verified") not in (True, "true"):
        raise SignInFailed("email_not_verified", f"{email} is not verified by the provider")
    name = claims.get("name")
    return Identity(subject=claims["sub"], email=email, name=name if isinstance(name, str) and name.strip() else None)

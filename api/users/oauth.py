"""Seed 001's Google sign-in, for any OpenID Connect provider: `GET /auth/oauth/google` and its callback.

Every outcome is a redirect to the frontend, never an error page: on success
`{FRONTEND_URL}/oauth-success?token=&userId=&email=` with the users API's token cookies set, else
`{FRONTEND_URL}/oauth-error?reason=` with a reason of `api.users.oidc.REASONS` (details go to the log).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import RedirectResponse

from api.core.deps import ACCESS_COOKIE, ServicesDep, SessionDep
from api.core.security import InvalidToken
from api.settings import Settings
from api.users.cookies import set_session_cookies
from api.users.oidc import OidcSignIn, SignInFailed, login_state_cookie
from persistence.repositories import federated_users

LINKING = "link_user_id"
"""The login-state key of the account signed in when the sign-in started: the one it may link."""

log = logging.getLogger("peerprep.oidc")

router = APIRouter(prefix="/auth", tags=["contest"])

NO_STORE = {"Cache-Control": "no-store"}


class LoginStateMiddleware:
    """Starlette's SessionMiddleware for the sign-in routes only: every other request (and every
    WebSocket message) skips reading and re-signing a cookie it never uses."""

    def __init__(self, app, **cookie_options) -> None:
        self.app = app
        self.with_login_state = SessionMiddleware(app, **cookie_options)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"].startswith(router.prefix + "/"):
            return await self.with_login_state(scope, receive, send)
        return await self.app(scope, receive, send)


def install(app: FastAPI, settings: Settings) -> None:
    """The provider client (None when not configured) and the cookie that carries a sign-in's state."""
    app.state.oidc_sign_in = OidcSignIn(settings) if settings.oidc_client_id else None
    app.add_middleware(LoginStateMiddleware, **login_state_cookie(settings))


def _frontend(settings: Settings, page: str, **params) -> str:
    return f"{settings.frontend_origins[0]}/{page}?{urlencode(params)}"


def _provider(request: Request) -> OidcSignIn:
    sign_in = request.app.state.oidc_sign_in
    if sign_in is None:
        raise SignInFailed("not_configured", "OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are not set")
    return sign_in


async def _or_error_page(settings: Settings, attempt: Callable[[], Awaitable[RedirectResponse]]) -> RedirectResponse:
    """The attempt's redirect; any failure becomes the frontend's error page with its reason."""
    try:
        return await attempt()
    except SignInFailed as failure:
        log.warning("OIDC sign-in failed: %s: %s", failure.reason, failure.detail)
        reason = failure.reason
    except Exception:
        log.exception("OIDC sign-in failed unexpectedly")
        reason = "server_error"
    return RedirectResponse(_frontend(settings, "oauth-error", reason=reason), status_code=302, headers=NO_STORE)


@router.get(
    "/oauth/google",
    response_class=RedirectResponse,
    status_code=302,
    summary="Sign in with the OpenID provider (Google unless OIDC_ISSUER says otherwise)",
    responses={
        302: {
            "description": "To the provider's sign-in page; on failure (e.g. OIDC not configured) to "
            "`{FRONTEND_URL}/oauth-error?reason=`"
        }
    },
)
async def oauth_start(request: Request, svc: ServicesDep) -> RedirectResponse:
    async def start() -> RedirectResponse:
        sign_in = _provider(request)
        # One sign-in at a time per browser: a new start forgets earlier ones, so the cookie stays small.
        request.session.clear()
        signed_in = request.cookies.get(ACCESS_COOKIE)
        if signed_in:
            with contextlib.suppress(InvalidToken):
                request.session[LINKING] = (await svc.live_sessions.claims(signed_in)).user_id
        redirect_uri = svc.settings.oidc_redirect_url or str(request.url_for("oauth_success"))
        return await sign_in.authorization_redirect(request, redirect_uri)

    return await _or_error_page(svc.settings, start)


@router.get(
    "/oauth-success",
    response_class=RedirectResponse,
    status_code=302,
    summary="The provider's callback: upserts the user by verified email and redirects to the frontend",
    responses={
        302: {
            "description": "To `{FRONTEND_URL}/oauth-success?token=&userId=&email=` with the token cookies set, "
            "or to `{FRONTEND_URL}/oauth-error?reason=`"
        }
    },
)
async def oauth_success(request: Request, svc: ServicesDep, session: SessionDep) -> RedirectResponse:
    settings = svc.settings

    async def finish() -> RedirectResponse:
        linking = request.session.pop(LINKING, None)
        identity = await _provider(request).identity(request)
        try:
            user = await federated_users.sign_in(
                session,
                email=identity.email,
                display_name=identity.name,
                provider=settings.oidc_provider_name,
                linking_user_id=linking,
            )
        except federated_users.EmailNotProved as unproved:
            raise SignInFailed("email_unproved", str(unproved)) from unproved
        response = RedirectResponse(_frontend(settings, "oauth-success"), status_code=302, headers=NO_STORE)
        token = await set_session_cookies(response, svc, session, user)
        response.headers["location"] = _frontend(
            settings, "oauth-success", token=token, userId=user.id, email=user.email
        )
        return response

    return await _or_error_page(settings, finish)

"""The token cookies a sign-in sets (users API login and refresh, OIDC sign-in) and logout clears."""

from __future__ import annotations

from datetime import timedelta

from starlette.responses import Response

from api.core.deps import ACCESS_COOKIE, REFRESH_COOKIE
from api.core.services import Services
from persistence.models import User
from persistence.repositories import refresh_tokens

REFRESH_COOKIE_PATH = "/users"


async def set_session_cookies(
    response: Response, svc: Services, session, user: User, refresh: str | None = None
) -> str:
    """Set the access cookie and the refresh cookie (a new token family unless `refresh` is given).

    Returns the access token, for callers that also hand it over another way.
    """
    settings = svc.settings
    access = svc.tokens.issue(user.id, user.role)
    response.set_cookie(
        ACCESS_COOKIE,
        access,
        max_age=settings.access_token_ttl_seconds,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )
    if refresh is None:
        refresh = await refresh_tokens.issue(session, user.id, timedelta(seconds=settings.refresh_token_ttl_seconds))
    response.set_cookie(
        REFRESH_COOKIE,
        refresh,
        max_age=settings.refresh_token_ttl_seconds,
        httponly=True,
        samesite="strict",
        secure=settings.cookie_secure,
        path=REFRESH_COOKIE_PATH,
    )
    return access


def clear_session_cookies(response: Response) -> None:
    response.delete_cookie(ACCESS_COOKIE, path="/")
    response.delete_cookie(REFRESH_COOKIE, path=REFRESH_COOKIE_PATH)

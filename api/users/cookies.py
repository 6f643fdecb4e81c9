"""The token cookies a sign-in sets (users API login and refresh, OIDC sign-in) and logout clears.

The refresh cookie is scoped to the users API's paths: `/user` (the gateway's, the contract)
and `/users` (the deprecated alias; cookie paths match whole segments, so one cannot serve
both), one cookie each with the same token, so a browser sends it to refresh and logout and
nowhere else. A client that reads a response's cookies by name sees the name twice. SameSite
is `COOKIE_SAMESITE` (`lax` by default, `strict` for the refresh cookie then: a frontend on
another port or subdomain of the same site sends both; a frontend on another site needs
`none`, which browsers accept only with `COOKIE_SECURE=true`).
"""

from __future__ import annotations

from datetime import timedelta

from starlette.responses import Response

from api.core.deps import ACCESS_COOKIE, REFRESH_COOKIE
from api.core.services import Services
from persistence.models import User
from persistence.repositories import refresh_tokens

REFRESH_COOKIE_PATHS = ("/user", "/users")


def refresh_samesite(configured: str) -> str:
    """The refresh cookie goes only where it is needed: `strict` where the access cookie is `lax`."""
    return "strict" if configured == "lax" else configured


async def set_session_cookies(
    response: Response,
    svc: Services,
    session,
    user: User,
    refresh: str | None = None,
    family_id: str | None = None,
    *,
    access_only: bool = False,
) -> str:
    """Set the access cookie and the refresh cookie (a new login unless `refresh` of the login
    `family_id` is given; none with `access_only`). The access token names its login (`sid`), so it
    dies with it. Returns the access token, for callers that also hand it over another way."""
    settings = svc.settings
    family_id = family_id or refresh_tokens.new_family_id()
    access = svc.tokens.issue(user.id, user.role, session_id=family_id)
    response.set_cookie(
        ACCESS_COOKIE,
        access,
        max_age=settings.access_token_ttl_seconds,
        httponly=True,
        samesite=settings.cookie_samesite,
        secure=settings.cookie_secure,
        path="/",
    )
    if access_only:
        return access
    if refresh is None:
        ttl = timedelta(seconds=settings.refresh_token_ttl_seconds)
        refresh = await refresh_tokens.issue(session, user.id, ttl, family_id)
    for path in REFRESH_COOKIE_PATHS:
        response.set_cookie(
            REFRESH_COOKIE,
            refresh,
            max_age=settings.refresh_token_ttl_seconds,
            httponly=True,
            samesite=refresh_samesite(settings.cookie_samesite),
            secure=settings.cookie_secure,
            path=path,
        )
    return access


def clear_session_cookies(response: Response, svc: Services) -> None:
    """Expire both cookies, with the attributes they were set with (a browser ignores a cross-site
    `SameSite=None` cookie's deletion that lacks them)."""
    settings = svc.settings
    attributes = dict(httponly=True, secure=settings.cookie_secure)
    response.delete_cookie(ACCESS_COOKIE, path="/", samesite=settings.cookie_samesite, **attributes)
    for path in REFRESH_COOKIE_PATHS:
        response.delete_cookie(
            REFRESH_COOKIE, path=path, samesite=refresh_samesite(settings.cookie_samesite), **attributes
        )

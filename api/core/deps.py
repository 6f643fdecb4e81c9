"""FastAPI dependencies: the services, a database session, and the caller's identity."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.errors import forbidden, unauthorized
from api.core.ids import parse_id
from api.core.security import Claims, InvalidToken
from api.core.services import Services

ACCESS_COOKIE = "jwt_access_token"
REFRESH_COOKIE = "jwt_refresh_token"

bearer_scheme = HTTPBearer(auto_error=False, description="`Authorization: Bearer <JWT>`")
cookie_scheme = APIKeyCookie(name=ACCESS_COOKIE, auto_error=False, description="The access-token cookie")


def services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(services)]


async def db_session(svc: ServicesDep) -> AsyncIterator[AsyncSession]:
    async with svc.sessions() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(db_session)]


async def current_claims(
    svc: ServicesDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    cookie: Annotated[str | None, Depends(cookie_scheme)],
) -> Claims:
    token = bearer.credentials if bearer else cookie
    if not token:
        raise unauthorized("Not authenticated")
    try:
        return await svc.live_sessions.claims(token)
    except InvalidToken as error:
        raise unauthorized("Invalid token") from error


CallerDep = Annotated[Claims, Depends(current_claims)]


def admin_claims(caller: CallerDep) -> Claims:
    if not caller.is_admin:
        raise forbidden("Admin only")
    return caller


AdminDep = Annotated[Claims, Depends(admin_claims)]


def parse_user_id(raw: str) -> int:
    return parse_id(raw, "User id")


def require_self_or_admin(caller: Claims, user_id: int) -> None:
    if caller.user_id != user_id and not caller.is_admin:
        raise forbidden("You may only access your own records")

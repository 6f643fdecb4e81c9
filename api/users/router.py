"""Users API (PeerPrep user-service): register, login, logout, refresh, me, get, update.

Served at the gateway's `/user` (the contract: `GET /user` is the caller) and at `/users`
(deprecated; the caller is `GET /users/me`): the same handlers behind both.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Cookie, Request, Response
from starlette.concurrency import run_in_threadpool

from api.core.auth_limits import client_ip
from api.core.deps import REFRESH_COOKIE, CallerDep, ServicesDep, SessionDep, parse_user_id
from api.core.errors import ApiError, bad_request, conflict, forbidden, not_found, unauthorized
from api.core.schemas import ERROR_RESPONSES, Message
from api.users.cookies import clear_session_cookies, set_session_cookies
from api.users.schemas import (
    LoginRequest,
    PublicUserOut,
    RegisterRequest,
    UpdatedUserOut,
    UpdateUserRequest,
    UserOut,
)
from persistence.repositories import refresh_tokens, users


async def register(body: RegisterRequest, request: Request, svc: ServicesDep, session: SessionDep) -> UserOut:
    keys = svc.auth_limits.register(client_ip(request), users.normalize_email(body.email))
    await svc.auth_limits.check(keys)
    await svc.auth_limits.failed(keys)
    password_hash = await run_in_threadpool(svc.passwords.hash, body.password)
    try:
        user = await users.create(session, username=body.username, email=body.email, password_hash=password_hash)
    except users.DuplicateUser as duplicate:
        raise conflict(f"{duplicate.field} already exists") from duplicate
    return UserOut.of(user)


async def login(
    body: LoginRequest, request: Request, response: Response, svc: ServicesDep, session: SessionDep
) -> UserOut:
    keys = svc.auth_limits.login(client_ip(request), users.normalize_email(body.email))
    await svc.auth_limits.check(keys)
    user = await users.by_email(session, body.email)
    valid = await run_in_threadpool(svc.passwords.verify, user.password_hash if user else None, body.password)
    if user is None or not valid:
        await svc.auth_limits.failed(keys)
        raise unauthorized("Invalid email or password")
    await svc.auth_limits.succeeded(keys)
    await set_session_cookies(response, svc, session, user)
    return UserOut.of(user)


async def logout(
    response: Response,
    caller: CallerDep,
    svc: ServicesDep,
    session: SessionDep,
    refresh_cookie: Annotated[str | None, Cookie(alias=REFRESH_COOKIE)] = None,
) -> Message:
    ended = {caller.session_id}
    if caller.session_id is not None:
        await refresh_tokens.revoke_family(session, caller.session_id)
    if refresh_cookie:
        ended.add(await refresh_tokens.revoke_token_family(session, refresh_cookie))
    for session_id in ended - {None}:
        svc.live_sessions.ended(session_id)
    clear_session_cookies(response, svc)
    return Message(message="User logged out")


async def refresh(
    request: Request,
    response: Response,
    svc: ServicesDep,
    session: SessionDep,
    refresh_cookie: Annotated[str | None, Cookie(alias=REFRESH_COOKIE)] = None,
) -> Message:
    limits = svc.auth_limits
    failures = limits.refresh_failures(client_ip(request))
    await limits.check(failures)
    if not refresh_cookie:
        await limits.failed(failures)
        raise unauthorized("No refresh token")
    owner = await refresh_tokens.owner(session, refresh_cookie)
    refreshes = limits.refreshes(owner) if owner is not None else []
    await limits.check(refreshes)
    ttl = timedelta(seconds=svc.settings.refresh_token_ttl_seconds)
    grace = timedelta(seconds=svc.settings.refresh_reuse_grace_seconds)
    try:
        user_id, family_id, successor = await refresh_tokens.rotate(session, refresh_cookie, ttl, grace)
    except refresh_tokens.RefreshRejected as rejected:
        await limits.failed(failures)
        raise ApiError(401, str(rejected)) from rejected
    await limits.failed(refreshes)
    user = await users.get(session, user_id)
    if user is None:
        raise unauthorized("Invalid or expired refresh token")
    # A concurrent duplicate (no successor) gets an access token; the refresh cookie it would
    # overwrite is the one the winning request set.
    await set_session_cookies(response, svc, session, user, successor, family_id, access_only=successor is None)
    return Message(message="Access token refreshed")


async def me(caller: CallerDep, session: SessionDep) -> UserOut:
    user = await users.get(session, caller.user_id)
    if user is None:
        raise not_found("User not found")
    return UserOut.of(user)


async def get_user(user_id: str, caller: CallerDep, session: SessionDep) -> UserOut | PublicUserOut:
    """The whole record to that user and to admins; to anyone else the public profile."""
    user = await users.get(session, parse_user_id(user_id))
    if user is None:
        raise not_found("User not found")
    return UserOut.of(user) if caller.user_id == user.id or caller.is_admin else PublicUserOut.of(user)


async def update_user(
    user_id: str, body: UpdateUserRequest, caller: CallerDep, svc: ServicesDep, session: SessionDep
) -> UpdatedUserOut:
    target = parse_user_id(user_id)
    if target != caller.user_id:
        raise forbidden("You can only update your own account")
    if not (body.newPassword or body.newEmail or body.newUsername):
        raise bad_request("Provide at least one of newPassword, newEmail, newUsername")
    user = await users.get(session, target)
    if user is None:
        raise not_found("User not found")
    if user.password_hash is not None:
        if not body.currentPassword:
            raise bad_request("currentPassword is required")
        if not await run_in_threadpool(svc.passwords.verify, user.password_hash, body.currentPassword):
            raise unauthorized("Current password is incorrect")
    new_hash = await run_in_threadpool(svc.passwords.hash, body.newPassword) if body.newPassword else None
    try:
        user = await users.update(session, user, username=body.newUsername, email=body.newEmail, password_hash=new_hash)
    except users.DuplicateUser as duplicate:
        raise conflict(f"{duplicate.field} already exists") from duplicate
    if new_hash:
        await refresh_tokens.revoke_all(session, user.id)
    return UpdatedUserOut(id=str(user.id), username=user.username, email=user.email, isAdmin=user.is_admin)


def users_router(prefix: str, me_path: str, deprecated: bool) -> APIRouter:
    router = APIRouter(prefix=prefix, tags=["user-service"], responses=ERROR_RESPONSES, deprecated=deprecated)
    router.add_api_route("/register", register, methods=["POST"], status_code=201, response_model=UserOut,
                         summary="Register a new user")  # fmt: skip
    router.add_api_route("/login", login, methods=["POST"], response_model=UserOut,
                         summary="Log in a user; sets the token cookies")  # fmt: skip
    router.add_api_route("/logout", logout, methods=["POST"], response_model=Message,
                         summary="Log out: revoke the refresh token, clear cookies")  # fmt: skip
    router.add_api_route("/refresh", refresh, methods=["POST"], response_model=Message,
                         summary="Rotate the refresh token and issue a new access token")  # fmt: skip
    router.add_api_route(me_path, me, methods=["GET"], response_model=UserOut,
                         summary="Get the current authenticated user")  # fmt: skip
    router.add_api_route("/{user_id}", get_user, methods=["GET"], response_model=UserOut | PublicUserOut,
                         summary="Get a user by id (the email only to that user and admins)")  # fmt: skip
    router.add_api_route("/{user_id}", update_user, methods=["PATCH"], response_model=UpdatedUserOut,
                         summary="Update your own account")  # fmt: skip
    return router


router = users_router("/user", "", deprecated=False)
legacy_router = users_router("/users", "/me", deprecated=True)

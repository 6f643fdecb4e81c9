"""`POST /auth/login?userId=N` (seed 001): a token for any user id, for frontend development only.

Off unless `DEV_LOGIN=true`; then 404 as if the route did not exist. The seed does not check
the id against the database; rooms need a real user row, so an unknown id gets a placeholder
user (`dev-N`). The token is always a plain USER token, even for an admin's id.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.core.deps import ServicesDep, SessionDep
from api.core.errors import not_found
from api.core.schemas import ERROR_RESPONSES
from api.users.schemas import TokenOut
from persistence.repositories import users

router = APIRouter(prefix="/auth", tags=["contest"], responses=ERROR_RESPONSES)


@router.post("/login", response_model=TokenOut, summary="Dev only: mint a token for a user id (DEV_LOGIN)")
async def dev_login(
    svc: ServicesDep, session: SessionDep, user_id: Annotated[int, Query(alias="userId", ge=1, le=2**31 - 1)]
) -> dict:
    if not svc.settings.dev_login:
        raise not_found("Not found")
    user = await users.ensure_with_id(session, user_id, f"dev-{user_id}", f"dev-{user_id}@dev.invalid")
    return {"token": svc.tokens.issue(user.id, "USER")}

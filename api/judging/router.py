"""`PUT /judge0/callbacks/{worker}/{secret}`: where Judge0 delivers results when `JUDGE0_CALLBACK_URL` is set.

Each judging of judge worker `worker` (judge/ray_workers.py) draws an unguessable secret, and
its Judge0 submissions carry `{JUDGE0_CALLBACK_URL}/judge0/callbacks/{worker}/{secret}`. Judge0
PUTs each test's result there (JSON, default fields, Base64); whichever front receives it
hands it to that worker over Ray, wherever it runs. The secret is the authentication: a
callback with an unknown secret, or for a judging that is over, is a 404 (the judging polls
when callbacks stop coming). Not part of the public API.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from ray.exceptions import RayError

from actors.kinds import judge_workers
from api.core.actors import actor_runtime
from api.core.deps import ServicesDep
from api.core.errors import ApiError, bad_request, not_found
from api.core.schemas import ERROR_RESPONSES
from judge.ray_workers import CallbackRefused, deliver_judge0_callback

router = APIRouter(prefix="/judge0", tags=["judge"], responses=ERROR_RESPONSES, include_in_schema=False)

Worker = Annotated[int, Path(ge=0, le=100_000)]
Secret = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{16,128}$")]


@router.put("/callbacks/{worker}/{secret}", status_code=204, summary="Judge0 delivers one test's result")
async def judge0_callback(worker: Worker, secret: Secret, request: Request, svc: ServicesDep) -> Response:
    if not svc.settings.judge0_callback_url:
        raise not_found("Judge0 callbacks are not enabled on this server")
    config = actor_runtime(svc).config
    pool = judge_workers(config.factory_config, config)
    try:
        async with asyncio.timeout(config.call_timeout):
            await deliver_judge0_callback(pool, worker, secret, await request.body())
    except CallbackRefused as refused:
        raise not_found(str(refused)) from None
    except ValueError as error:
        raise bad_request(str(error)) from None
    except (RayError, TimeoutError):
        raise ApiError(503, f"Judge worker {worker} is unavailable", {"Retry-After": "1"}) from None
    return Response(status_code=204)

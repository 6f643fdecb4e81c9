"""Liveness and readiness."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from actors.diagnostics import Ping
from api.core.deps import ServicesDep

router = APIRouter(tags=["operations"])

READY_TIMEOUT_SECONDS = 2.0


@router.get("/health", summary="Liveness: the process is up")
async def health() -> dict:
    return {"status": "ok"}


async def _check(probe) -> str:
    try:
        await asyncio.wait_for(probe(), READY_TIMEOUT_SECONDS)
    except Exception as error:  # any failure means "not ready"; the reason is reported, not raised
        return f"unavailable: {type(error).__name__}"
    return "ok"


@router.get("/ready", summary="Readiness: database, the actor runtime on Ray, and Redis (when configured)")
async def ready(svc: ServicesDep) -> JSONResponse:
    async def database():
        async with svc.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def actor_runtime():
        await svc.actors.client.ask("probe:ready", Ping(), within=READY_TIMEOUT_SECONDS)

    checks = {"database": await _check(database)}
    if svc.redis is not None:
        checks["redis"] = await _check(svc.redis.ping)
    if svc.actors is not None:
        checks["ray"] = await _check(actor_runtime)
    failed = [name for name, state in checks.items() if state != "ok"]
    if failed:
        return JSONResponse({"error": f"Not ready: {', '.join(failed)}", "checks": checks}, status_code=503)
    return JSONResponse({"status": "ready", "checks": checks})

"""Liveness and readiness."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from actors.diagnostics import Ping
from api.core.deps import ServicesDep
from api.core.services import Services
from api.judging.languages import workers_of

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
    body = {"status": "ready", "checks": checks}
    if svc.actors is not None and svc.settings.judge_backend == "sandbox":
        body["judge"] = await _sandbox_isolation(svc)
    return JSONResponse(body)


async def _sandbox_isolation(svc: Services) -> dict:
    """How the judge workers' sandboxes isolate runs: informative, never a reason to be unready
    (without cgroups the judge still works, one run at a time)."""
    try:
        reports = await asyncio.wait_for(workers_of(svc).isolation(), READY_TIMEOUT_SECONDS)
    except Exception as error:  # the judge's state is reported, not raised
        return {"sandbox": f"unknown: {type(error).__name__}"}
    if not reports:
        return {"sandbox": "unknown: no judge worker has started yet"}
    without = next((report for report in reports if report.get("cgroups") is None), None)
    return without or reports[0]

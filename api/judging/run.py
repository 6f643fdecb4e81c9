"""`POST /run`: the code runner the PeerPrep frontend calls from its collab page.

`{language: "python" | "java", code}` → `{stdout, stderr, exitCode}`, run once with no input on
a judge worker, in the sandbox and under the judging limits (or by Judge0 with
`JUDGE_BACKEND=judge0`), as the real code runner answers: 200 whatever the program's exit,
a compile error's output in `stderr`. The real runner takes anyone's code and runs it on its
host unconfined; here the caller must be signed in and is held to `RUN_PER_WINDOW` runs per
`RUN_WINDOW_SECONDS` (429 with `Retry-After` beyond), and the code to `SUBMISSION_MAX_BYTES`.
A language is named as sessions name it (`python`, `java`), by its key, name or an alias
(`python 3`, `Java (OpenJDK)`); other languages are refused, as the real runner refuses them.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict

from actors.clock import RealClock
from actors.rate_limit import SlidingWindowLimiter
from api.core.deps import CallerDep, ServicesDep
from api.core.errors import ApiError, bad_request
from api.core.schemas import ERROR_RESPONSES
from api.judging.languages import workers_of
from judge import languages
from judge.verdicts import Status

router = APIRouter(tags=["code-runner"], responses=ERROR_RESPONSES)

RUNNABLE = ("python", "java")


class RunOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"stdout": "hello\n", "stderr": "", "exitCode": 0}]})

    stdout: str
    stderr: str
    exitCode: int | None


def _limiter(request: Request) -> SlidingWindowLimiter:
    state = request.app.state
    if getattr(state, "run_limiter", None) is None:
        settings = state.services.settings
        state.run_limiter = SlidingWindowLimiter(settings.run_per_window, settings.run_window_seconds, RealClock())
    return state.run_limiter


@router.post("/run", response_model=RunOut, summary="Run code once (the collab page's Run): stdout, stderr, exit code")
async def run(body: dict[str, Any], request: Request, caller: CallerDep, svc: ServicesDep) -> RunOut:
    language, code = body.get("language"), body.get("code")
    if not isinstance(language, str) or not isinstance(code, str) or not language.strip() or not code:
        raise bad_request("Missing 'language' or 'code'.")
    spec = languages.find(language)
    if spec is None or spec.key not in RUNNABLE:
        raise bad_request("Unsupported language. Use 'python' or 'java'.")
    limit = svc.settings.submission_max_bytes
    if len(code.encode()) > limit:
        raise ApiError(413, f"Code is larger than {limit} bytes")
    retry_after = _limiter(request).acquire(caller.user_id)
    if retry_after:
        raise ApiError(429, "Too many runs. Please slow down.", {"Retry-After": str(max(1, math.ceil(retry_after)))})
    execution = await workers_of(svc).execute(spec.judge0_id, code)
    if execution.status is Status.INTERNAL_ERROR:
        raise ApiError(503, f"The code could not be run: {execution.stderr}", {"Retry-After": "5"})
    return RunOut(stdout=execution.stdout, stderr=execution.stderr, exitCode=execution.exit_code)

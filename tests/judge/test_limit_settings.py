"""The judge's limits per language and its cgroup mode as settings: they reach the sandbox, and
bad values are refused at start-up; `/ready` says when the judge runs without cgroups."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pydantic
import pytest
import ray

from api.app import create_app
from api.settings import sandbox_config
from judge.cases import TestCase
from judge.runner import SandboxRunner
from judge.sandbox import MiB
from judge.verdicts import Status
from tests.conftest import make_settings
from tests.judge.helpers import need

PYTHON, C = 71, 50
HUNDRED_MB = "block = bytearray(100 * 1024 * 1024)\nprint('done')\n"


def test_language_limits_override_the_defaults(tmp_path):
    settings = make_settings(
        "sqlite+aiosqlite:///:memory:",
        tmp_path,
        judge_run_cpu_seconds=3.0,
        judge_compile_memory_mb=512,
        judge_language_limits={
            "python": {"run": {"memory_mb": 64, "processes": 8}},
            "c": {"compile": {"cpu_cores": 2}},
        },
        judge_cgroups="off",
        judge_cgroup="/sys/fs/cgroup/judge",
    )
    config = sandbox_config(settings)
    assert (config.cgroups, config.cgroup_path) == ("off", "/sys/fs/cgroup/judge")
    assert config.default.run.cpu_seconds == 3.0 and config.default.compile.memory_bytes == 512 * MiB
    python = config.limits[PYTHON]
    assert (python.run.memory_bytes, python.run.processes, python.run.cpu_seconds) == (64 * MiB, 8, 3.0)
    assert config.limits[C].compile.cpu_cores == 2 and config.limits[C].run == config.default.run


@pytest.mark.parametrize(
    "overrides",
    [
        {"judge_language_limits": {"cobol": {}}},
        {"judge_language_limits": {"python": {"run": {"memory_mb": 0}}}},
        {"judge_language_limits": {"python": {"run": {"memroy_mb": 64}}}},
        {"judge_run_cpu_seconds": -1},
        {"judge_cgroups": "v3"},
    ],
)
def test_bad_judge_limits_are_refused(tmp_path, overrides):
    with pytest.raises(pydantic.ValidationError):
        make_settings("sqlite+aiosqlite:///:memory:", tmp_path, **overrides)


async def test_a_language_limit_setting_binds_in_the_sandbox(runner, tmp_path):
    need(runner, PYTHON)
    settings = make_settings(
        "sqlite+aiosqlite:///:memory:", tmp_path, judge_language_limits={"python": {"run": {"memory_mb": 64}}}
    )
    config = sandbox_config(settings)
    limited = SandboxRunner(language_limits=config.limits, sandbox=runner.sandbox)
    one = [TestCase("", "done\n")]
    assert (await runner.judge(PYTHON, HUNDRED_MB, one)).status is Status.ACCEPTED
    verdict = await limited.judge(PYTHON, HUNDRED_MB, one)
    assert verdict.status in (Status.MEMORY_LIMIT_EXCEEDED, Status.RUNTIME_ERROR_NZEC), verdict


def _kill_runtime(namespace: str) -> None:
    for entry in ray.util.list_named_actors(all_namespaces=True):
        if entry["namespace"] == namespace:
            ray.kill(ray.get_actor(entry["name"], namespace=namespace), no_restart=True)


async def test_ready_says_the_judge_runs_without_cgroups_and_why(runner, ray_session, database_url, tmp_path):
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    settings = make_settings(
        database_url,
        tmp_path,
        actors_enabled=True,
        actor_namespace=namespace,
        judge_backend="sandbox",
        judge_workers=1,
        judge_cgroups="off",
    )
    app = create_app(settings)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                deadline = asyncio.get_running_loop().time() + 90
                while True:
                    ready = await client.get("/ready")
                    judge = ready.json().get("judge", {}) if ready.status_code == 200 else {}
                    if "cgroups" in judge:
                        break
                    assert asyncio.get_running_loop().time() < deadline, ready.text
                    await asyncio.sleep(0.5)
                assert ready.json()["status"] == "ready"
                assert judge["cgroups"] is None
                assert "JUDGE_CGROUPS=off" in judge["without_cgroups"]
    finally:
        _kill_runtime(namespace)

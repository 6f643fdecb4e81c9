"""Judge workers on real Ray: a room host's bounded queue fans out to them, and a SIGKILL of either
the process holding the queue (the room's host) or a worker leaves every submission with
exactly one verdict, stored and pushed once. The test judge's `SLOW` marker keeps a
submission in flight (judge/testing.py)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import signal
from collections import Counter

import pytest
import ray
from pydantic import ValidationError
from ray.exceptions import RayActorError
from sqlalchemy import select

from actors.contest.room import room_actor_id, room_topic
from actors.hosting.config import load_factories
from actors.kinds import judge_workers
from api.settings import Settings, describe_validation_error, runtime_config
from judge.ray_workers import PoolLayout, WorkerPoolConfig, pool_layout, worker_options
from persistence.models import Submission
from tests.contest.apps import contest_app, started_room, verdicts_settle

ACCEPT = "print('ACCEPT')"


def worker(app, index: int = 0):
    """Judge worker `index` of the app's runtime, by name."""
    config = app.state.services.actors.config
    pool = judge_workers(config.factory_config, config)
    return ray.get_actor(pool.worker_name(index), namespace=config.namespace)


async def worker_judging(app, count: int, index: int = 0, patience: float = 60.0) -> dict:
    """The worker's stats once it is judging `count` submissions."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    while (stats := await worker(app, index).stats.remote())["judging"] < count:
        assert loop.time() < deadline, f"the worker never judged {count} at once: {stats}"
        await asyncio.sleep(0.02)
    return stats


async def restarted_worker(app, old_pid: int, index: int = 0, patience: float = 60.0) -> dict:
    """The worker's stats once Ray has restarted it in a process other than `old_pid`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    while True:
        with contextlib.suppress(RayActorError):
            stats = await worker(app, index).stats.remote()
            if stats["pid"] != old_pid:
                return stats
        assert loop.time() < deadline, "the judge worker was not restarted"
        await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def verdict_pushes(app, room_id: int):
    """A Counter of the submission ids of the VERDICT events the room publishes meanwhile."""
    pushed: Counter[int] = Counter()
    subscription = await app.state.services.actors.bus.subscribe(room_topic(room_id))

    async def collect() -> None:
        async for event in subscription:
            if event["type"] == "event" and event["event"]["type"] == "VERDICT":
                pushed[event["event"]["submissionId"]] += 1

    collector = asyncio.create_task(collect())
    try:
        yield pushed
    finally:
        subscription.close()
        collector.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await collector


async def last_push(pushed: Counter, api, auth, room_id: int, problem_id: int, patience: float = 30.0) -> int:
    """Submit one more and wait for its VERDICT push: a room's events arrive in order, so every
    push of the verdicts before it has arrived by then. Its submission id."""
    barrier = await submit(api, auth, room_id, problem_id, ACCEPT)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    while not pushed[barrier]:
        assert loop.time() < deadline, f"the verdict of {barrier} was never pushed: {pushed}"
        await asyncio.sleep(0.02)
    return barrier


async def submit(api, auth, room_id: int, problem_id: int, code: str) -> int:
    body = {"roomId": room_id, "problemId": problem_id, "code": code, "languageId": 71}
    response = await api.post("/rooms/submit", headers=auth, json=body)
    assert response.status_code == 200, response.text
    return response.json()["submissionId"]


async def stored(app, submission_ids: list[int]) -> dict[int, str]:
    """Each submission's stored status, by id."""
    async with app.state.services.sessions() as session:
        rows = await session.execute(
            select(Submission.id, Submission.status_description).where(Submission.id.in_(submission_ids))
        )
        return dict(rows.all())


async def test_killing_the_host_that_holds_the_queue_leaves_one_verdict_per_submission(
    ray_session, database_url, tmp_path
):
    async with contest_app(database_url, tmp_path, judge_concurrency=1) as (api, app):
        client = app.state.services.actors.client
        room_id, _, (_guest, auth), problems = await started_room(api)
        async with verdict_pushes(app, room_id) as pushed:
            judged_before = await submit(api, auth, room_id, problems[0], ACCEPT)
            await verdicts_settle(api, room_id, auth, 1)
            # One submission at the worker, two waiting in the host's queue (concurrency 1).
            in_flight = [
                await submit(api, auth, room_id, problems[1], ACCEPT + " # SLOW"),
                await submit(api, auth, room_id, problems[1], "print(42) # SLOW"),
                await submit(api, auth, room_id, problems[2], "COMPILE_ERROR # SLOW"),
            ]
            await worker_judging(app, 1)
            host = client.host_of(room_actor_id(room_id))
            pid = (await client.host_stats(host))["pid"]
            os.kill(pid, signal.SIGKILL)

            detail = await verdicts_settle(api, room_id, auth, 4, patience=90)
            assert (await client.host_stats(host))["pid"] != pid
            barrier = await last_push(pushed, api, auth, room_id, problems[0])
        expected = ["Accepted", "Accepted", "Wrong Answer", "Compilation Error"]
        submissions = [judged_before, *in_flight]
        assert [s["id"] for s in detail["submissions"]] == submissions
        assert [s["status"]["description"] for s in detail["submissions"]] == expected
        assert await stored(app, submissions) == dict(zip(submissions, expected, strict=True))
        assert pushed == Counter([*submissions, barrier])  # each verdict applied and pushed exactly once


async def test_killing_a_judge_worker_mid_judging_leaves_one_verdict_per_submission(
    ray_session, database_url, tmp_path
):
    async with contest_app(database_url, tmp_path, judge_concurrency=4) as (api, app):
        room_id, _, (_guest, auth), problems = await started_room(api)
        async with verdict_pushes(app, room_id) as pushed:
            codes = [ACCEPT + " # SLOW", "print(1) # SLOW", "TIME_LIMIT # SLOW"]
            submissions = [await submit(api, auth, room_id, problems[0], code) for code in codes]
            killed = await worker_judging(app, 3)
            os.kill(killed["pid"], signal.SIGKILL)
            detail = await verdicts_settle(api, room_id, auth, 3, patience=90)
            barrier = await last_push(pushed, api, auth, room_id, problems[0])
        expected = ["Accepted", "Wrong Answer", "Time Limit Exceeded"]
        assert [s["status"]["description"] for s in detail["submissions"]] == expected
        assert await stored(app, submissions) == dict(zip(submissions, expected, strict=True))
        assert pushed == Counter([*submissions, barrier])
        restarted = await restarted_worker(app, killed["pid"])
        assert restarted["judged"] == 4  # Ray sent the 3 jobs in flight again to the restarted worker, then the last


async def test_a_job_whose_worker_dies_more_often_than_retried_is_an_internal_error(
    ray_session, database_url, tmp_path
):
    async with contest_app(database_url, tmp_path, judge_worker_retries=0) as (api, app):
        room_id, _, (_guest, auth), problems = await started_room(api)
        await submit(api, auth, room_id, problems[0], ACCEPT + " # SLOW")
        killed = await worker_judging(app, 1)
        os.kill(killed["pid"], signal.SIGKILL)
        [lost] = (await verdicts_settle(api, room_id, auth, 1))["submissions"]
        assert lost["status"]["description"] == "Internal Error"
        assert lost["compileOutput"].startswith("the judge worker failed")
        # Ray restarts the worker for the next submissions (sent while it restarts, without
        # retries, a job would fail too).
        await restarted_worker(app, killed["pid"])
        await submit(api, auth, room_id, problems[0], ACCEPT)
        detail = await verdicts_settle(api, room_id, auth, 2)
        assert detail["submissions"][1]["status"]["description"] == "Accepted"


async def test_a_job_without_an_answer_in_time_is_an_internal_error(ray_session, database_url, tmp_path):
    async with contest_app(database_url, tmp_path, judge_timeout_seconds=0.5) as (api, _app):
        room_id, _, (_guest, auth), problems = await started_room(api)
        await submit(api, auth, room_id, problems[0], ACCEPT + " # SLOW")  # the test judge takes 2 s
        [late] = (await verdicts_settle(api, room_id, auth, 1))["submissions"]
        assert late["status"]["description"] == "Internal Error"
        assert late["compileOutput"] == "no judge worker answered within 0.5 s"


async def test_a_full_queue_answers_503_with_retry_after(ray_session, database_url, tmp_path):
    settings = dict(judge_concurrency=1, judge_queue_limit=1)
    async with contest_app(database_url, tmp_path, **settings) as (api, _app):
        room_id, _, (_guest, auth), problems = await started_room(api)
        for _ in range(2):  # one judging, one waiting
            await submit(api, auth, room_id, problems[0], ACCEPT + " # SLOW")
        body = {"roomId": room_id, "problemId": problems[0], "code": ACCEPT, "languageId": 71}
        refused = await api.post("/rooms/submit", headers=auth, json=body)
        assert refused.status_code == 503
        assert refused.json() == {"error": "The judge is busy. Please retry shortly."}
        assert int(refused.headers["Retry-After"]) >= 1
        await verdicts_settle(api, room_id, auth, 2)
        await submit(api, auth, room_id, problems[0], ACCEPT)  # places are given back
        assert (await verdicts_settle(api, room_id, auth, 3))["submissions"][2]["status"]["id"] == 3


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_resource_no_node_has_leaves_the_workers_unpinned(ray_session, database_url, tmp_path):
    async with contest_app(database_url, tmp_path, judge_ray_resource="judge") as (api, app):
        room_id, _, (_guest, auth), problems = await started_room(api)
        await submit(api, auth, room_id, problems[0], ACCEPT)
        [judged] = (await verdicts_settle(api, room_id, auth, 1))["submissions"]
        assert judged["status"]["description"] == "Accepted"
        assert (await worker(app).stats.remote())["judged"] == 1


def test_pinned_workers_are_one_per_unit_of_the_judge_resource_unless_told(caplog):
    caplog.set_level(logging.INFO, logger="peerprep.judge.workers")
    pinned = WorkerPoolConfig(resource="judge", embedded=False)
    assert pool_layout(pinned, {"CPU": 8.0, "judge": 3.0}) == PoolLayout(3, "judge")
    assert pool_layout(dataclasses.replace(pinned, workers=2), {"judge": 3.0}) == PoolLayout(2, "judge")
    assert not caplog.records
    # More than the units: the others wait for nodes (an autoscaler adds them).
    assert pool_layout(dataclasses.replace(pinned, workers=5), {"judge": 3.0}) == PoolLayout(5, "judge")
    assert "5 judge workers for 3 units of 'judge'" in caplog.text


def test_without_a_node_with_the_resource_a_cluster_waits_and_embedded_ray_runs_unpinned(caplog):
    pinned = WorkerPoolConfig(resource="judge", embedded=False)
    assert pool_layout(pinned, {"CPU": 8.0}) == PoolLayout(1, "judge")
    assert "no node of the Ray cluster has the 'judge' resource yet" in caplog.text
    caplog.clear()
    embedded = dataclasses.replace(pinned, embedded=True, workers=2)
    assert pool_layout(embedded, {"CPU": 8.0}) == PoolLayout(2, None)
    assert "no node of this embedded Ray has it: judge workers run unpinned" in caplog.text
    assert pool_layout(WorkerPoolConfig(workers=2), {"judge": 3.0}) == PoolLayout(2, None)


def test_pinned_workers_ask_ray_for_one_unit_of_the_resource():
    config = WorkerPoolConfig(namespace="ns", prefix="p-", retries=3)
    options = worker_options(config, 1, "judge")
    assert options["resources"] == {"judge": 1}
    assert (options["name"], options["namespace"]) == ("p-judge-worker-1", "ns")
    assert (options["max_restarts"], options["max_task_retries"], options["lifetime"]) == (-1, 3, "detached")
    assert "resources" not in worker_options(config, 1, None)


def test_pool_settings_are_checked():
    for wrong in (dict(workers=0), dict(retries=-1), dict(timeout=0)):
        with pytest.raises(ValueError):
            WorkerPoolConfig(**wrong)


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("judge_workers", 0, "JUDGE_WORKERS"),
        ("judge_worker_retries", -1, "JUDGE_WORKER_RETRIES"),
        ("judge_timeout_seconds", 0, "JUDGE_TIMEOUT_SECONDS"),
        ("judge0_callback_url", "judge0-callbacks.example", "JUDGE0_CALLBACK_URL"),
    ],
)
def test_judge_settings_are_checked(field, value, named):
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, **{field: value})
    assert describe_validation_error(refused.value).startswith(f"invalid setting {named}:")


def test_the_judge_settings_reach_the_judge_workers():
    settings = Settings(
        _env_file=None,
        actor_namespace="ns",
        judge_ray_resource="judge",
        judge_workers=3,
        judge_worker_retries=1,
        judge_timeout_seconds=60,
        judge0_callback_url="http://game:8081",
    )
    # What a host's factories are given: the factory config, and where the runtime lives.
    given = load_factories(dataclasses.replace(runtime_config(settings), prefix="p-", factories=f"{__name__}:given"))
    pool = judge_workers(*given["arguments"])
    assert (pool.namespace, pool.prefix, pool.resource, pool.workers, pool.retries, pool.timeout) == (
        "ns", "p-", "judge", 3, 1, 60.0,
    )  # fmt: skip
    assert pool.embedded  # no RAY_ADDRESS: the front starts Ray
    joined = runtime_config(Settings(_env_file=None, ray_address="10.0.0.1:6379"))
    joined_given = load_factories(dataclasses.replace(joined, factories=f"{__name__}:given"))
    assert not judge_workers(*joined_given["arguments"]).embedded
    assert pool.engine.judge0_callback_url == "http://game:8081"
    assert pool.engine.callback_prefix(2) == "http://game:8081/judge0/callbacks/2"


def given(*arguments) -> dict:
    """A factories function that returns what it was called with."""
    return {"arguments": arguments}

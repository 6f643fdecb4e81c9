"""Judge0 callbacks through the whole server: a front on uvicorn with `JUDGE0_CALLBACK_URL`, the
judge workers on real Ray, and the Judge0-like server of tests/judge0/fake_judge0.py (a real
Judge0 was not part of the tests), which PUTs each result to the URL its submission carried.
"""

from __future__ import annotations

import pytest

from tests.contest.apps import contest_server, started_room, verdicts_settle
from tests.judge0.fake_judge0 import Judge0LikeServer
from tests.services import free_port

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

SECRET = "s" * 32


async def test_results_come_back_through_the_callback_route_to_the_waiting_worker(ray_session, database_url, tmp_path):
    judge0 = Judge0LikeServer(polls_before_final=10**6)  # polling would never see a result
    port = free_port()
    async with judge0.serve() as judge0_url:
        callbacks = f"http://127.0.0.1:{port}"
        settings = dict(judge_backend="judge0", judge0_url=judge0_url, judge0_callback_url=callbacks, port=port)
        async with contest_server(database_url, tmp_path, **settings) as (_base, http, _app):
            room_id, _, (_guest, auth), problems = await started_room(http)
            body = {"roomId": room_id, "problemId": problems[0], "code": "print(input())", "languageId": 71}
            assert (await http.post("/rooms/submit", headers=auth, json=body)).status_code == 200
            [judged] = (await verdicts_settle(http, room_id, auth, 1))["submissions"]
    # The fake echoes stdin, which is not a bank question's expected output.
    assert judged["status"]["description"] == "Wrong Answer"
    assert judge0.polls == []
    [batch] = judge0.batches
    urls = {sent["callback_url"] for sent in batch}
    assert len(urls) == 1 and urls.pop().startswith(f"http://127.0.0.1:{port}/judge0/callbacks/0/")
    # Test 0's result decides the verdict; results that come after the judging ended find nobody waiting.
    first = next(iter(judge0.submissions))  # tokens in the order of the batch
    assert (first, 204) in judge0.callbacks
    assert {outcome for _, outcome in judge0.callbacks} <= {204, 404}
    assert len(judge0.callbacks) == len(batch)


async def test_the_callback_route_refuses_what_no_judging_waits_for(ray_session, database_url, tmp_path):
    judge0 = Judge0LikeServer()
    async with judge0.serve() as judge0_url:
        settings = dict(judge_backend="judge0", judge0_url=judge0_url, judge0_callback_url="http://127.0.0.1:9")
        async with contest_server(database_url, tmp_path, **settings) as (_base, http, _app):
            await started_room(http)  # a room host starts the judge workers
            result = {"token": "t", "status": {"id": 3, "description": "Accepted"}}
            unknown = await http.put(f"/judge0/callbacks/0/{SECRET}", json=result)
            no_worker = await http.put(f"/judge0/callbacks/7/{SECRET}", json=result)
            not_a_result = await http.put(f"/judge0/callbacks/0/{SECRET}", json={"token": "t"})
            not_a_secret = await http.put("/judge0/callbacks/0/short", json=result)
    assert (unknown.status_code, unknown.json()) == (404, {"error": "no judging waits for this callback"})
    assert (no_worker.status_code, no_worker.json()) == (404, {"error": "there is no judge worker 7"})
    assert not_a_result.status_code == 400
    assert not_a_result.json() == {"error": "a Judge0 callback body needs a token and a status id"}
    assert not_a_secret.status_code == 400 and "error" in not_a_secret.json()


async def test_without_a_callback_url_the_route_is_not_there(ray_session, database_url, tmp_path):
    async with contest_server(database_url, tmp_path) as (_base, http, _app):
        result = {"token": "t", "status": {"id": 3, "description": "Accepted"}}
        refused = await http.put(f"/judge0/callbacks/0/{SECRET}", json=result)
    assert (refused.status_code, refused.json()) == (404, {"error": "Judge0 callbacks are not enabled on this server"})

"""The Judge0 judge against a Judge0-like server that follows Judge0 CE's documented API.

A real Judge0 was not part of the tests: tests/judge0/fake_judge0.py runs nothing and decides
deterministically (it echoes stdin, `#fake …` lines in stdin set a run's status, time and
memory, `COMPILE_ERROR:` in the source fails compilation).
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import itertools

import httpx
import pytest

from judge.cases import TestCase
from judge.judge0 import UNEXPECTED_FAILURE, Judge0Error, Judge0Judge, Judge0Limits, Judge0Settings, poll_intervals
from judge.verdicts import Status, Verdict
from tests.judge0.fake_judge0 import Judge0LikeServer, ruby_encode64
from tests.judge0.helpers import (
    QUICK,
    SOURCE,
    JudgeWithTests,
    callback_receiver,
    closed_port,
    job,
    judge_on,
    silent_server,
)

TOKEN = "judge0-test-token-5ecret"


def case(output: str, *, time: str = "0.010", memory: int = 1024, status: int | None = None) -> TestCase:
    """A test the echoing fake passes (its expected output is its input) with the given measurements."""
    directives = f"#fake time {time}\n#fake memory {memory}\n" + (f"#fake status {status}\n" if status else "")
    return TestCase(output + "\n" + directives, output + "\n")


def failing(output: str, **measurements) -> TestCase:
    """A test the echoing fake fails: the expected output differs from the input."""
    passing = case(output, **measurements)
    return TestCase(passing.input, "not " + passing.expected_output)


async def test_accepted_over_a_multi_test_batch():
    server = Judge0LikeServer(auth_token=TOKEN)
    tests = [case("1 2", time="0.120", memory=1000), case("3 4", time="0.450", memory=3000), case("5", memory=5000)]
    async with judge_on(server, tests, auth_token=TOKEN) as judge:
        verdict = await judge.judge(job())
    assert verdict == Verdict(Status.ACCEPTED, time=0.45, memory=5000)

    assert len(server.batches) == 1
    [batch] = server.batches
    assert [sent["stdin"] for sent in batch] == [test.input for test in tests]
    assert [sent["expected_output"] for sent in batch] == [test.expected_output for test in tests]
    for sent in batch:
        assert sent["source_code"] == SOURCE
        assert sent["language_id"] == 71
        assert (sent["cpu_time_limit"], sent["wall_time_limit"], sent["memory_limit"]) == (2.0, 5.0, 262144)
        assert "callback_url" not in sent
    for method, path, query in server.requests:
        assert query["base64_encoded"] == "true"
        if method == "POST":
            assert (path, query.get("wait")) == ("/submissions/batch", "false")
        else:
            assert path == "/submissions/batch"
            assert set(query["fields"].split(",")) >= {"token", "status", "time", "memory", "compile_output"}
    assert server.auth_headers and set(server.auth_headers) == {TOKEN}


@pytest.mark.parametrize("k", [0, 2, 4])
async def test_wrong_answer_on_test_k_reports_k(k):
    tests = [case(f"line {i}", time=f"0.{i + 1}00", memory=1000 * (i + 1)) for i in range(5)]
    tests[k] = failing(f"line {k}", time=f"0.{k + 1}00", memory=1000 * (k + 1))
    async with judge_on(Judge0LikeServer(), tests) as judge:
        verdict = await judge.judge(job())
    # time and memory: the most of the tests up to the failing one, as the sandbox judge reports
    assert verdict == Verdict(Status.WRONG_ANSWER, time=(k + 1) / 10, memory=1000 * (k + 1), failed_test=k)


async def test_compilation_error_with_decoded_compile_output():
    message = (
        "main.cpp:3:5: error: \u2018answer\u2019 was not declared in this scope — ошибка компиляции ✗\n"
        "  3 |   answer;\n"
    )
    code = f"int main() {{ answer; }}\n// COMPILE_ERROR: {message}"
    assert "\n" in ruby_encode64(message).rstrip("\n")  # long enough for Ruby's line breaks in the Base64
    async with judge_on(Judge0LikeServer(polls_before_final=1), [case("1"), case("2")]) as judge:
        verdict = await judge.judge(job(code, language_id=54))
    assert verdict == Verdict(Status.COMPILATION_ERROR, compile_output=message.strip())


async def test_compile_output_is_truncated_to_the_limit():
    code = "// COMPILE_ERROR: " + "error: too long " * 100
    async with judge_on(Judge0LikeServer(), [case("1")], compile_output_limit=40) as judge:
        verdict = await judge.judge(job(code, language_id=54))
    assert verdict.status is Status.COMPILATION_ERROR
    assert verdict.compile_output == ("error: too long " * 3)[:40] + "\n[compiler output truncated]\n"


async def test_compiler_warnings_travel_with_an_accepted_verdict():
    code = "int main() {}\n// COMPILE_WARNING: main.c:1: warning: unused variable 'x'"
    async with judge_on(Judge0LikeServer(), [case("1")]) as judge:
        verdict = await judge.judge(job(code, language_id=50))
    assert verdict == Verdict(Status.ACCEPTED, 0.01, 1024, "main.c:1: warning: unused variable 'x'")


@pytest.mark.parametrize(
    "status",
    [
        Status.TIME_LIMIT_EXCEEDED,
        Status.RUNTIME_ERROR_SIGSEGV,
        Status.RUNTIME_ERROR_SIGXFSZ,
        Status.RUNTIME_ERROR_SIGFPE,
        Status.RUNTIME_ERROR_SIGABRT,
        Status.RUNTIME_ERROR_NZEC,
        Status.RUNTIME_ERROR_OTHER,
        Status.EXEC_FORMAT_ERROR,
    ],
)
async def test_runtime_errors_and_time_limit_map_by_id(status):
    tests = [case("ok", time="0.200"), case("boom", time="1.500", memory=9000, status=int(status)), case("later")]
    async with judge_on(Judge0LikeServer(), tests) as judge:
        verdict = await judge.judge(job())
    assert verdict == Verdict(status, time=1.5, memory=9000, failed_test=1)


async def test_judge0_internal_error_is_ours_with_a_reason():
    tests = [case("ok"), case("x", status=13)]
    async with judge_on(Judge0LikeServer(), tests) as judge:
        verdict = await judge.judge(job())
    assert verdict == Verdict(
        Status.INTERNAL_ERROR, compile_output="Judge0 could not run test 1 (Internal Error)", failed_test=1
    )


async def test_an_unknown_status_id_is_an_internal_error():
    async with judge_on(Judge0LikeServer(), [case("x", status=99)]) as judge:
        verdict = await judge.judge(job())
    assert verdict == Verdict(Status.INTERNAL_ERROR, compile_output="Judge0 answered an unknown status 99 for test 0")


async def test_more_tests_than_the_batch_limit_are_split():
    server = Judge0LikeServer(batch_limit=5, polls_before_final=1)
    tests = [case(str(i), memory=100 + i) for i in range(12)]
    async with judge_on(server, tests, max_batch_size=5) as judge:
        verdict = await judge.judge(job())
    assert verdict == Verdict(Status.ACCEPTED, time=0.01, memory=111)
    assert [len(batch) for batch in server.batches] == [5, 5, 2]
    assert [sent["stdin"] for batch in server.batches for sent in batch] == [test.input for test in tests]
    assert server.polls and all(len(tokens) <= 5 for tokens in server.polls)
    assert {token for tokens in server.polls for token in tokens} == set(server.submissions)


async def test_a_failure_in_a_later_batch_reports_its_own_index():
    server = Judge0LikeServer(batch_limit=5)
    tests = [case(str(i)) for i in range(12)]
    tests[9] = failing("9")
    async with judge_on(server, tests, max_batch_size=5) as judge:
        verdict = await judge.judge(job())
    assert (verdict.status, verdict.failed_test) == (Status.WRONG_ANSWER, 9)


async def test_the_default_batch_size_is_judge0s_limit_of_20():
    server = Judge0LikeServer()  # refuses batches of more than 20, as Judge0 CE does
    tests = [case(str(i)) for i in range(45)]
    async with judge_on(server, tests) as judge:
        verdict = await judge.judge(job())
    assert verdict.status is Status.ACCEPTED
    assert [len(batch) for batch in server.batches] == [20, 20, 5]


async def test_polling_goes_on_until_the_final_status():
    server = Judge0LikeServer(polls_before_final=3)  # In Queue, Processing, Processing, then final
    async with judge_on(server, [case("a"), case("b")]) as judge:
        verdict = await judge.judge(job())
    assert verdict == Verdict(Status.ACCEPTED, time=0.01, memory=1024)
    tokens = list(server.submissions)
    assert server.polls == [tokens] * 4


def held(test: TestCase, polls: int) -> TestCase:
    """`test`, not final on the fake for `polls` polls."""
    return TestCase(f"{test.input}#fake polls {polls}\n", test.expected_output)


async def test_polling_asks_only_for_the_tests_that_can_still_decide():
    server = Judge0LikeServer()
    tests = [held(case("a"), 2), failing("b"), held(case("c"), 10**6)]
    async with judge_on(server, tests) as judge:
        verdict = await judge.judge(job())
    assert (verdict.status, verdict.failed_test) == (Status.WRONG_ANSWER, 1)
    first, second, third = server.submissions
    # test 1 fails at once; test 2 cannot matter any more; test 0 decides whether test 1 is the first failure
    assert server.polls == [[first, second, third], [first], [first]]


async def test_a_decided_failure_needs_no_more_polls():
    server = Judge0LikeServer()
    tests = [case("a"), failing("b"), held(case("c"), 10**6)]
    async with judge_on(server, tests) as judge:
        verdict = await judge.judge(job())
    assert (verdict.status, verdict.failed_test) == (Status.WRONG_ANSWER, 1)
    assert len(server.polls) == 1


def test_poll_intervals_back_off_to_the_maximum():
    settings = Judge0Settings(poll_initial_interval=0.1, poll_max_interval=0.5, poll_backoff=2.0)
    assert [round(x, 6) for x in itertools.islice(poll_intervals(settings), 5)] == [0.1, 0.2, 0.4, 0.5, 0.5]


async def test_callback_mode_waits_for_callbacks_and_does_not_poll():
    server = Judge0LikeServer(polls_before_final=10**6)  # polling would never see a final status
    tests = [case("a", time="0.300"), failing("b", time="0.100", memory=2048), case("c")]
    async with callback_receiver() as (callback_url, judges):
        settings = {"callback_url": callback_url, "callback_fallback_after": None}
        async with judge_on(server, tests, **settings) as judge:
            judges.append(judge)
            verdict = await judge.judge(job())
    assert verdict == Verdict(Status.WRONG_ANSWER, time=0.3, memory=2048, failed_test=1)
    assert server.polls == []
    urls = {sent["callback_url"] for sent in server.batches[0]}
    assert len(urls) == 1 and urls.pop().startswith(callback_url + "/")  # one secret for the judging
    assert sorted(server.callbacks) == sorted((token, 204) for token in server.submissions)


async def test_each_judging_has_its_own_callback_secret():
    server = Judge0LikeServer()
    async with callback_receiver() as (callback_url, judges):
        async with judge_on(server, [case("a")], callback_url=callback_url, callback_fallback_after=None) as judge:
            judges.append(judge)
            verdicts = await asyncio.gather(judge.judge(job()), judge.judge(job()))
    assert [verdict.status for verdict in verdicts] == [Status.ACCEPTED, Status.ACCEPTED]
    secrets = {sent["callback_url"].removeprefix(callback_url + "/") for batch in server.batches for sent in batch}
    assert len(secrets) == 2 and all(len(secret) >= 32 for secret in secrets)


async def test_callback_mode_polls_when_no_callback_comes():
    server = Judge0LikeServer()
    unreachable = f"http://127.0.0.1:{closed_port()}/judge0/callback"
    settings = {"callback_url": unreachable, "callback_fallback_after": 0.2}
    async with judge_on(server, [case("a"), case("b")], **settings) as judge:
        verdict = await judge.judge(job())
    assert verdict.status is Status.ACCEPTED
    assert server.polls
    assert sorted(outcome for _, outcome in server.callbacks) == ["ConnectError", "ConnectError"]


def test_deliver_callback_refuses_what_is_not_a_judge0_result():
    judge = Judge0Judge(Judge0Settings())
    for body in (b"not json", b"[]", b'{"status": {"id": 3}}', {"token": "t"}):
        with pytest.raises(ValueError):
            judge.deliver_callback("secret", body)
    # a result for a judging nobody waits for is not delivered (the route answers 404)
    assert judge.deliver_callback("secret", {"token": "t", "status": {"id": 3, "description": "Accepted"}}) is False


async def test_a_callback_needs_its_judgings_secret_and_one_of_its_tokens():
    server = Judge0LikeServer(polls_before_final=10**6)
    unreachable = f"http://127.0.0.1:{closed_port()}/judge0/callback"  # only this test delivers
    async with judge_on(server, [case("a")], callback_url=unreachable, callback_fallback_after=None) as judge:
        judging = asyncio.create_task(judge.judge(job()))
        await asyncio.wait_for(server.called_back.wait(), 10)
        [sent] = server.batches[0]
        secret = sent["callback_url"].removeprefix(unreachable + "/")
        [token] = server.submissions
        result = {"token": token, "status": {"id": 4, "description": "Wrong Answer"}}
        delivered = [
            judge.deliver_callback("not-" + secret, result),
            judge.deliver_callback(secret, {**result, "token": "not-" + token}),
            judge.deliver_callback(secret, result),
        ]
        verdict = await judging
    assert delivered == [False, False, True]
    assert verdict.status is Status.WRONG_ANSWER  # what the genuine callback said


async def test_a_wrong_token_is_an_internal_error_with_a_clear_reason_and_no_token():
    server = Judge0LikeServer(auth_token=TOKEN)
    wrong = "wrong-token-d0-not-leak"
    async with judge_on(server, [case("a")], auth_token=wrong) as judge:
        verdict = await judge.judge(job())
        assert wrong not in repr(judge.settings)
    assert verdict == Verdict(
        Status.INTERNAL_ERROR, compile_output="Judge0 rejected the auth token (HTTP 401): check JUDGE0_AUTH_TOKEN"
    )
    assert server.auth_headers == [wrong]  # sent once: Judge0 would refuse it again
    assert server.submissions == {}


async def test_no_token_where_judge0_wants_one_says_so():
    async with judge_on(Judge0LikeServer(auth_token=TOKEN), [case("a")]) as judge:
        verdict = await judge.judge(job())
    assert verdict.status is Status.INTERNAL_ERROR
    assert verdict.compile_output == "Judge0 requires an auth token (HTTP 401) and none is set: set JUDGE0_AUTH_TOKEN"


@pytest.mark.parametrize(
    ("status", "body"), [(429, None), (503, {"error": "queue is full"}), (502, None)], ids=["429", "503", "502"]
)
async def test_a_busy_judge0_is_retried_until_it_accepts(status, body):
    server = Judge0LikeServer()
    server.refuse_next(status, times=2, body=body, retry_after="0")
    async with judge_on(server, [case("a"), case("b")]) as judge:
        verdict = await judge.judge(job())
    assert verdict.status is Status.ACCEPTED
    assert server.posts == 3
    assert len(server.batches) == 1


async def test_a_busy_judge0_is_given_up_on_after_the_bound():
    server = Judge0LikeServer()
    server.refuse_next(503, times=10, body={"error": "queue is full"})
    async with judge_on(server, [case("a")], max_attempts=3) as judge:
        verdict = await judge.judge(job())
    assert verdict == Verdict(
        Status.INTERNAL_ERROR, compile_output="Judge0 is unavailable (HTTP 503: queue is full); gave up after 3 tries"
    )
    assert server.posts == 3


async def test_a_poll_refused_for_a_while_still_reaches_the_verdict():
    server = Judge0LikeServer(polls_before_final=1)
    async with judge_on(server, [case("a")]) as judge:
        server.refuse_next(429, method="POST")
        server.refuse_next(500, method="GET")
        verdict = await judge.judge(job())
    assert verdict.status is Status.ACCEPTED
    assert (server.posts, len(server.polls)) == (2, 2)


async def test_submissions_judge0_refuses_are_an_internal_error_naming_the_field():
    server = Judge0LikeServer()
    async with judge_on(server, [case("a"), case("b")]) as judge:
        verdict = await judge.judge(job(language_id=999))
    assert verdict == Verdict(
        Status.INTERNAL_ERROR,
        compile_output="Judge0 refused to create submissions (HTTP 422): test 0: language_id: language with id 999 "
        "doesn't exist",
    )
    assert server.posts == 1


async def test_per_language_limits_are_sent_and_checked_by_judge0():
    server = Judge0LikeServer()
    limits = {62: Judge0Limits(cpu_time_limit=4.0, wall_time_limit=8.0, memory_limit=512000), 71: Judge0Limits(99)}
    async with judge_on(server, [case("a")], language_limits=limits) as judge:
        java = await judge.judge(job("class Main {}", language_id=62))
        python = await judge.judge(job())
    assert java.status is Status.ACCEPTED
    sent = server.batches[0][0]
    assert (sent["cpu_time_limit"], sent["wall_time_limit"], sent["memory_limit"]) == (4.0, 8.0, 512000)
    assert python.status is Status.INTERNAL_ERROR
    assert "cpu_time_limit: must be less than or equal to 15" in python.compile_output


async def test_judge0_down_is_an_internal_error():
    settings = Judge0Settings(base_url=f"http://127.0.0.1:{closed_port()}", **QUICK)
    judge = JudgeWithTests(Judge0Judge(settings), [case("a")])
    verdict = await judge.judge(job())
    await judge.aclose()
    assert verdict.status is Status.INTERNAL_ERROR
    assert verdict.compile_output.startswith(f"cannot reach Judge0 at {settings.base_url} to create submissions (")
    assert verdict.compile_output.endswith("; gave up after 3 tries")


async def test_a_judge0_that_never_answers_ends_at_the_deadline():
    with silent_server() as base_url:
        settings = Judge0Settings(**{**QUICK, "base_url": base_url, "request_timeout": 60.0, "deadline": 0.3})
        judge = JudgeWithTests(Judge0Judge(settings), [case("a")])
        verdict = await asyncio.wait_for(judge.judge(job()), 10)  # fails rather than hangs if the deadline did not work
        await judge.aclose()
    assert verdict == Verdict(Status.INTERNAL_ERROR, compile_output="Judge0 did not finish judging within 0.3 s")


async def test_a_judging_that_never_finishes_ends_at_the_deadline():
    server = Judge0LikeServer(polls_before_final=10**6)
    async with judge_on(server, [case("a")], deadline=0.3) as judge:
        verdict = await asyncio.wait_for(judge.judge(job()), 10)
    assert verdict == Verdict(Status.INTERNAL_ERROR, compile_output="Judge0 did not finish judging within 0.3 s")
    assert len(server.polls) > 1


async def test_non_ascii_source_input_and_output_round_trip_in_base64():
    code = "print(input())  # überprüfe: 漢字, émoji 🚀"
    tests = [TestCase("naïve café 🚀 日本語\n", "naïve café 🚀 日本語\n"), TestCase("Ωμέγα\n", "Ωμέγα  \n\n")]
    server = Judge0LikeServer()
    async with judge_on(server, tests) as judge:
        verdict = await judge.judge(job(code))
    assert verdict.status is Status.ACCEPTED
    sent = server.batches[0]
    assert [s["source_code"] for s in sent] == [code, code]
    assert [(s["stdin"], s["expected_output"]) for s in sent] == [(t.input, t.expected_output) for t in tests]


async def test_non_ascii_output_that_differs_is_a_wrong_answer():
    async with judge_on(Judge0LikeServer(), [TestCase("naïve\n", "naive\n")]) as judge:
        verdict = await judge.judge(job())
    assert (verdict.status, verdict.failed_test) == (Status.WRONG_ANSWER, 0)


async def test_the_fake_refuses_fields_that_are_not_base64():
    """What makes the round trip above mean something: text sent unencoded would be refused."""
    server = Judge0LikeServer()
    plain = {"source_code": "print('ä')", "language_id": 71, "stdin": "ä", "expected_output": "ä"}
    encoded = {
        **plain,
        **{name: base64.b64encode(plain[name].encode()).decode() for name in plain if name != "language_id"},
    }
    async with server.serve() as base_url, httpx.AsyncClient(base_url=base_url) as client:
        refused = await client.post("/submissions/batch?base64_encoded=true", json={"submissions": [plain]})
        accepted = await client.post("/submissions/batch?base64_encoded=true", json={"submissions": [encoded]})
    assert refused.status_code == 422
    assert refused.json() == [
        {name: ["is not Base64 of UTF-8 text"] for name in ("source_code", "stdin", "expected_output")}
    ]
    assert accepted.status_code == 201 and set(accepted.json()[0]) == {"token"}


async def test_languages_reports_ours_that_judge0_has():
    server = Judge0LikeServer()
    async with judge_on(server, []) as judge:
        assert await judge.languages() == {50, 54, 62, 63, 71}
        assert await judge.languages() == {50, 54, 62, 63, 71}
        assert server.language_requests == 1  # cached
        server.languages = [{"id": 71, "name": "Bash (5.0.0)"}, {"id": 54, "name": "C++ (GCC 9.2.0)"}]
        assert await judge.languages(refresh=True) == {54}  # 71 is another language there: not used
        assert server.language_requests == 2


async def test_languages_raises_a_safe_reason_when_judge0_refuses():
    async with judge_on(Judge0LikeServer(auth_token=TOKEN), [], auth_token="bad-token") as judge:
        with pytest.raises(Judge0Error) as refused:
            await judge.languages()
    assert str(refused.value) == "Judge0 rejected the auth token (HTTP 401): check JUDGE0_AUTH_TOKEN"


async def test_a_problem_without_tests_is_an_internal_error():
    server = Judge0LikeServer()
    async with judge_on(server, []) as judge:
        verdict = await judge.judge(job())
    assert verdict == Verdict(Status.INTERNAL_ERROR, compile_output="this problem has no tests to judge against")
    assert server.requests == []


async def test_judge_never_raises():
    judge = Judge0Judge(Judge0Settings(**QUICK))
    broken = dataclasses.replace(job(), tests=(TestCase(None, None),))  # cannot be encoded: a bug of the caller's
    assert await judge.judge(broken) == Verdict(Status.INTERNAL_ERROR, compile_output=UNEXPECTED_FAILURE)


def test_settings_are_checked():
    with pytest.raises(ValueError):
        Judge0Settings(base_url="ftp://judge0")
    with pytest.raises(ValueError):
        Judge0Settings(max_batch_size=0)
    assert Judge0Settings().limits == Judge0Limits(cpu_time_limit=2.0, wall_time_limit=5.0, memory_limit=262144)


async def test_the_judge0_backend_is_chosen_by_settings():
    from judge.backends import EngineConfig, UnavailableJudge, build_engine
    from judge.judge0 import Judge0Judge

    configured = build_engine(EngineConfig("judge0", "http://judge0.invalid:2358", "token"))
    assert isinstance(configured, Judge0Judge)
    await configured.aclose()
    missing = build_engine(EngineConfig("judge0"))
    assert isinstance(missing, UnavailableJudge) and "JUDGE0_URL" in missing.reason

"""The Judge0 CE judge: a submission's tests as one Judge0 batch, its results as one Verdict.

    judge = Judge0Judge(Judge0Settings(base_url="http://judge0:2358", auth_token=token))
    verdict = await judge.judge(JudgeJob(submission_id, question_id, 71, source, tests))
    ours = await judge.languages()          # which of judge/languages.py's ids this Judge0 has
    await judge.aclose()

Wire format: docs/protocols.md, "Judge0" (Judge0 CE 1.13.x). Each test case becomes one
Judge0 submission (source, stdin, expected output, the language's limits), all Base64 in both
directions (`base64_encoded=true`), posted with `POST /submissions/batch` in chunks of at most
`max_batch_size` (Judge0's own limit is 20). Judge0 compares the output itself (trailing
whitespace ignored, as judge/compare.py does).

Results come one of two ways:

- polling (default): `GET /submissions/batch?tokens=…` for the tests not final yet, first after
  `poll_initial_interval`, then at intervals growing by `poll_backoff` up to `poll_max_interval`;
- callbacks (`callback_url` set): each judging draws an unguessable secret and its submissions
  carry `{callback_url}/{secret}`; Judge0 PUTs each result there, and the route mounted at
  that URL hands the secret and the body to `Judge0Judge.deliver_callback` of the instance
  that submitted (the judging it completes lives in that process's memory; see
  judge/ray_workers.py). The secret is what makes a callback genuine: a result for any other
  judging, or for a token this judging did not get, is refused. Nothing is polled unless
  callbacks stop coming for `callback_fallback_after` seconds.

Combining, as judge/runner.py does for the sandbox: the first test (by index) that is not
Accepted decides the status and `failed_test` (its 0-based index); Accepted only when every
test is. `time` is the most CPU seconds and `memory` the highest KB of the tests up to and
including the deciding one. Judging stops as soon as the verdict is known (a failure whose
earlier tests are all Accepted). A Compilation Error carries Judge0's compile output, decoded
and truncated to `compile_output_limit`, and no test index. Judge0's Internal Error, an
unknown status, a request Judge0 refuses (401, 403, 422…), Judge0 unreachable or failing
(5xx, 429, network errors; retried with backoff `max_attempts` times first) and the overall
`deadline` passing all end in `Verdict(Status.INTERNAL_ERROR, compile_output=<short reason>)`.
A reason never contains the auth token; `judge()` never raises (but for cancellation).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import secrets
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from judge.cases import TestCase
from judge.interface import Execution, JudgeJob, LanguageSupport
from judge.languages import LANGUAGES
from judge.sandbox import RUN_LIMITS, MiB
from judge.verdicts import Status, Verdict

log = logging.getLogger("peerprep.judge.judge0")


RESULT_FIELDS = "token,status,time,memory,compile_output,message"
EXECUTION_FIELDS = "token,status,stdout,stderr,exit_code,compile_output,message"
UNEXPECTED_FAILURE = "the Judge0 judge failed unexpectedly; the server log has the details"
REASON_LIMIT = 300


class Judge0Error(Exception):
    """Judge0 could not be asked, or refused; the message is a short reason fit for a verdict."""


@dataclass(frozen=True)
class Judge0Limits:
    """Judge0's per-submission limits: seconds of CPU, seconds of wall clock, KB of memory."""

    cpu_time_limit: float = RUN_LIMITS.cpu_seconds
    wall_time_limit: float = RUN_LIMITS.wall_seconds
    memory_limit: int = RUN_LIMITS.memory_bytes * 1024 // MiB

    def fields(self) -> dict[str, float | int]:
        return {
            "cpu_time_limit": self.cpu_time_limit,
            "wall_time_limit": self.wall_time_limit,
            "memory_limit": self.memory_limit,
        }


@dataclass(frozen=True)
class Judge0Settings:
    """Everything the Judge0 judge can be told. Times are seconds.

    `deadline` bounds one `judge()` call from start to verdict (submitting,
    retries, waiting). `max_attempts` is how many times one request is tried when Judge0
    answers a status in `retry_statuses` or cannot be reached; waits between tries start at
    `retry_initial_interval` and double up to `retry_max_interval` (a `Retry-After` is honoured
    within that bound). Other refusals (401, 403, 422, 400) are not retried: Judge0 would give
    the same answer again. With `callback_url` set (a prefix: each judging's submissions carry
    `{callback_url}/{secret}`), results are awaited as callbacks, and the judge polls anyway
    when none has come for `callback_fallback_after` seconds (None: never).
    """

    base_url: str = "http://127.0.0.1:2358"
    auth_token: str | None = field(default=None, repr=False)
    auth_header: str = "X-Auth-Token"
    callback_url: str | None = None
    callback_fallback_after: float | None = 15.0
    limits: Judge0Limits = Judge0Limits()
    language_limits: Mapping[int, Judge0Limits] = field(default_factory=dict)
    max_batch_size: int = 20
    poll_initial_interval: float = 0.2
    poll_max_interval: float = 2.0
    poll_backoff: float = 1.5
    deadline: float = 60.0
    connect_timeout: float = 5.0
    request_timeout: float = 10.0
    max_attempts: int = 4
    retry_initial_interval: float = 0.5
    retry_max_interval: float = 5.0
    retry_statuses: frozenset[int] = frozenset({408, 429, 500, 502, 503, 504})
    compile_output_limit: int = 8192
    languages_cache_seconds: float = 300.0
    max_connections: int = 20

    def __post_init__(self) -> None:
        url = httpx.URL(self.base_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError("Judge0 base_url must be an http(s) URL with a host")
        positive = {
            "poll_initial_interval": self.poll_initial_interval,
            "poll_max_interval": self.poll_max_interval,
            "deadline": self.deadline,
            "connect_timeout": self.connect_timeout,
            "request_timeout": self.request_timeout,
        }
        for name, value in positive.items():
            if not value > 0:
                raise ValueError(f"Judge0 setting {name} must be > 0")
        if self.poll_backoff < 1:
            raise ValueError("Judge0 setting poll_backoff must be ≥ 1")
        if self.max_batch_size < 1 or self.max_attempts < 1 or self.max_connections < 1:
            raise ValueError("Judge0 settings max_batch_size, max_attempts and max_connections must be ≥ 1")
        if self.retry_initial_interval < 0 or self.retry_max_interval < 0 or self.compile_output_limit < 0:
            raise ValueError("Judge0 retry intervals and compile_output_limit must be ≥ 0")

    def limits_for(self, language_id: int) -> Judge0Limits:
        return self.language_limits.get(language_id, self.limits)


def poll_intervals(settings: Judge0Settings) -> Iterator[float]:
    """The waits before each poll: the initial interval, growing by `poll_backoff` up to the maximum."""
    interval = min(settings.poll_initial_interval, settings.poll_max_interval)
    while True:
        yield interval
        interval = min(interval * settings.poll_backoff, settings.poll_max_interval)


def encode(text: str) -> str:
    return base64.b64encode(text.encode("utf-8", "replace")).decode("ascii")


def decode(value: Any) -> str | None:
    """A Base64 field of Judge0's (Ruby's encode64 puts a newline every 60 characters) as text."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise Judge0Error("Judge0 answered a non-text output field")
    try:
        return base64.b64decode(value).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        raise Judge0Error("Judge0 answered an output field that is not Base64") from None


def _status_id(result: Mapping[str, Any]) -> int | None:
    status = result.get("status")
    if isinstance(status, Mapping):
        status = status.get("id")
    return status if isinstance(status, int) and not isinstance(status, bool) else None


def _seconds(value: Any) -> float | None:
    """Judge0's `time`: seconds as a string such as "0.001" (or a number, or null)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _kilobytes(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _field_errors(body: Any) -> str | None:
    """`{field: [messages]}` or `{"error": message}` as one short line."""
    if not isinstance(body, Mapping):
        return None
    if isinstance(body.get("error"), str):
        return body["error"]
    parts = []
    for name, messages in body.items():
        if isinstance(messages, list):
            messages = ", ".join(str(message) for message in messages)
        parts.append(f"{name}: {messages}")
    return "; ".join(parts) or None


class Judge0Client:
    """Judge0's HTTP API as this judge uses it, with retries; raises `Judge0Error` with a safe reason."""

    def __init__(self, settings: Judge0Settings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self._transport = transport
        self._http: httpx.AsyncClient | None = None
        self._http_loop: asyncio.AbstractEventLoop | None = None
        url = httpx.URL(settings.base_url)
        self.where = f"{url.scheme}://{url.host}" + (f":{url.port}" if url.port else "")  # no credentials

    def http(self) -> httpx.AsyncClient:
        """The connection pool of the running loop (an httpx client cannot move between loops)."""
        loop = asyncio.get_running_loop()
        if self._http is None or self._http_loop is not loop or self._http.is_closed:
            headers = {"Accept": "application/json"}
            if self.settings.auth_token:
                headers[self.settings.auth_header] = self.settings.auth_token
            self._http = httpx.AsyncClient(
                base_url=self.settings.base_url.rstrip("/"),
                headers=headers,
                timeout=httpx.Timeout(self.settings.request_timeout, connect=self.settings.connect_timeout),
                limits=httpx.Limits(max_connections=self.settings.max_connections),
                transport=self._transport,
            )
            self._http_loop = loop
        return self._http

    async def aclose(self) -> None:
        if self._http is not None and self._http_loop is asyncio.get_running_loop():
            await self._http.aclose()
        self._http = self._http_loop = None

    def scrub(self, text: str) -> str:
        """`text` cut short, without the auth token in it."""
        if self.settings.auth_token:
            text = text.replace(self.settings.auth_token, "***")
        return text if len(text) <= REASON_LIMIT else text[: REASON_LIMIT - 1] + "…"

    def _refusal(self, response: httpx.Response, what: str, first_test: int) -> str:
        code = response.status_code
        if code == 401:
            if self.settings.auth_token:
                return "Judge0 rejected the auth token (HTTP 401): check JUDGE0_AUTH_TOKEN"
            return "Judge0 requires an auth token (HTTP 401) and none is set: set JUDGE0_AUTH_TOKEN"
        if code == 403:
            return f"Judge0 refused this server access (HTTP 403) when asked to {what}"
        if code == 429:
            return "Judge0 is rate limiting this server (HTTP 429)"
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, list):  # a batch in which no submission was valid
            found = next(((i, errors) for i, errors in enumerate(body) if _field_errors(errors)), None)
            detail = f"test {first_test + found[0]}: {_field_errors(found[1])}" if found else None
        else:
            detail = _field_errors(body)
        if code == 503:
            return f"Judge0 is unavailable (HTTP 503{': ' + detail if detail else ''})"
        if code >= 500:
            return f"Judge0 failed to {what} (HTTP {code})"
        return f"Judge0 refused to {what} (HTTP {code}){': ' + detail if detail else ''}"

    async def request(
        self,
        method: str,
        path: str,
        what: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        first_test: int = 0,
    ) -> Any:
        """The JSON Judge0 answers with a 2xx, tried up to `max_attempts` times."""
        settings = self.settings
        wait = settings.retry_initial_interval
        for attempt in range(1, settings.max_attempts + 1):
            retry_after = 0.0
            try:
                response = await self.http().request(method, path, params=params, json=body)
            except httpx.RequestError as error:
                problem = f"cannot reach Judge0 at {self.where} to {what} ({type(error).__name__})"
            else:
                if response.is_success:
                    try:
                        return response.json()
                    except ValueError:
                        raise Judge0Error(f"Judge0 answered {what} with a body that is not JSON") from None
                problem = self._refusal(response, what, first_test)
                if response.status_code not in settings.retry_statuses:
                    raise Judge0Error(self.scrub(problem))
                with contextlib.suppress(ValueError):
                    retry_after = float(response.headers.get("retry-after", "0"))
            if attempt == settings.max_attempts:
                tries = "try" if attempt == 1 else "tries"
                raise Judge0Error(self.scrub(f"{problem}; gave up after {attempt} {tries}"))
            log.info("Judge0 %s failed (%s), try %d of %d", what, problem, attempt, settings.max_attempts)
            await asyncio.sleep(min(max(wait, retry_after), settings.retry_max_interval))
            wait = min(wait * 2, settings.retry_max_interval)
        raise AssertionError("unreachable")

    async def submit(self, submissions: Sequence[Mapping[str, Any]], first_test: int = 0) -> list[str]:
        """Judge0's tokens for `submissions` (at most one batch), in order."""
        answer = await self.request(
            "POST",
            "/submissions/batch",
            "create submissions",
            params={"base64_encoded": "true", "wait": "false"},
            body={"submissions": list(submissions)},
            first_test=first_test,
        )
        if not isinstance(answer, list) or len(answer) != len(submissions):
            raise Judge0Error("Judge0 answered the batch of submissions with something other than one entry each")
        tokens = []
        for index, entry in enumerate(answer):
            token = entry.get("token") if isinstance(entry, Mapping) else None
            if not isinstance(token, str) or not token:
                detail = _field_errors(entry) or "no token"
                raise Judge0Error(self.scrub(f"Judge0 refused test {first_test + index}: {detail}"))
            tokens.append(token)
        return tokens

    async def results(self, tokens: Sequence[str], fields: str = RESULT_FIELDS) -> list[Mapping[str, Any]]:
        """The current state of the submissions `tokens` (at most one batch), in order."""
        answer = await self.request(
            "GET",
            "/submissions/batch",
            "fetch results",
            params={"tokens": ",".join(tokens), "base64_encoded": "true", "fields": fields},
        )
        found = answer.get("submissions") if isinstance(answer, Mapping) else None
        if not isinstance(found, list) or len(found) != len(tokens):
            raise Judge0Error("Judge0 answered the results with something other than one entry each")
        if any(not isinstance(result, Mapping) for result in found):
            raise Judge0Error("Judge0 no longer knows a submission it accepted")
        return found

    async def languages(self) -> list[Mapping[str, Any]]:
        answer = await self.request("GET", "/languages", "list languages")
        if not isinstance(answer, list):
            raise Judge0Error("Judge0 answered the list of languages with something other than a list")
        return [entry for entry in answer if isinstance(entry, Mapping)]


class _Waiting:
    """One judging in callback mode: results by test index, and a flag raised when one arrives.

    A result may come before Judge0's answer to the batch has told which test its token is;
    it is kept in `early` (at most one per test) until `expect` learns the token.
    """

    def __init__(self, results: list[Mapping[str, Any] | None], callback_url: str) -> None:
        self.results = results
        self.secret = secrets.token_urlsafe(24)
        self.url = f"{callback_url.rstrip('/')}/{self.secret}"
        self.index_of: dict[str, int] = {}
        self.early: dict[str, Mapping[str, Any]] = {}
        self.arrived = asyncio.Event()
        self.loop = asyncio.get_running_loop()

    def expect(self, tokens: Sequence[str], start: int) -> None:
        for offset, token in enumerate(tokens):
            self.index_of[token] = start + offset
            early = self.early.pop(token, None)
            if early is not None:
                self.receive(token, early)

    def accepts(self, token: str) -> bool:
        """Whether `token` is (or may yet be) one of this judging's; keeps an early result's place."""
        if token in self.index_of:
            return True
        return len(self.index_of) < len(self.results) and len(self.early) < len(self.results)

    def receive(self, token: str, result: Mapping[str, Any]) -> None:
        index = self.index_of.get(token)
        if index is None:
            if len(self.early) < len(self.results):
                self.early[token] = result
            return
        self.results[index] = result
        self.arrived.set()


class Judge0Judge:
    """`judge.interface.Judge` on a Judge0 CE server; see the module docstring."""

    def __init__(self, settings: Judge0Settings, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.client = Judge0Client(settings, transport)
        self._lock = threading.Lock()
        self._waiting: dict[str, _Waiting] = {}  # by secret
        self._languages: tuple[float, frozenset[int]] | None = None

    async def aclose(self) -> None:
        await self.client.aclose()

    async def languages(self, refresh: bool = False) -> frozenset[int]:
        """Which of our Judge0 ids (judge/languages.py) this Judge0 has, by `GET /languages`.

        A language counts only when Judge0's name for that id starts with the same word as
        ours ("Python (3.8.1)" for "Python 3"): Judge0's "Extra" flavour numbers languages
        differently. Cached for `languages_cache_seconds`; raises `Judge0Error` when Judge0
        cannot be asked.
        """
        now = time.monotonic()
        if not refresh and self._languages is not None and self._languages[0] > now:
            return self._languages[1]
        names = {
            entry["id"]: str(entry.get("name", ""))
            for entry in await self.client.languages()
            if isinstance(entry.get("id"), int)
        }
        found = set()
        for spec in LANGUAGES:
            theirs = names.get(spec.judge0_id)
            if theirs is None:
                continue
            if theirs.split(" ", 1)[0].lower() == spec.name.split(" ", 1)[0].lower():
                found.add(spec.judge0_id)
            else:
                log.warning("Judge0 language %d is %r, not %s: not used", spec.judge0_id, theirs, spec.name)
        self._languages = (now + self.settings.languages_cache_seconds, frozenset(found))
        return self._languages[1]

    async def language_support(self) -> LanguageSupport | None:
        """What `languages` says, per language; None while Judge0 cannot be asked."""
        try:
            ours = await self.languages()
        except Judge0Error as error:
            log.warning("Judge0's languages cannot be read: %s", error)
            return None
        return {spec.judge0_id: None if spec.judge0_id in ours else "Judge0 does not offer it" for spec in LANGUAGES}

    async def execute(self, language_id: int, code: str, stdin: str = "") -> Execution:
        """One Judge0 submission without an expected output, polled until it is final."""
        try:
            async with asyncio.timeout(self.settings.deadline):
                submission = {"source_code": encode(code), "language_id": language_id, "stdin": encode(stdin),
                              **self.settings.limits_for(language_id).fields()}  # fmt: skip
                [token] = await self.client.submit([submission])
                for interval in poll_intervals(self.settings):
                    await asyncio.sleep(interval)
                    [result] = await self.client.results([token], EXECUTION_FIELDS)
                    status = _status(result)
                    if status is not None and status.final:
                        break
        except Judge0Error as error:
            return Execution("", str(error), None, Status.INTERNAL_ERROR)
        except TimeoutError:
            reason = f"Judge0 did not finish within {self.settings.deadline:g} s"
            return Execution("", reason, None, Status.INTERNAL_ERROR)
        stderr = decode(result.get("stderr")) or decode(result.get("compile_output")) or ""
        exit_code = result.get("exit_code") if isinstance(result.get("exit_code"), int) else None
        return Execution(decode(result.get("stdout")) or "", stderr, exit_code, status)

    async def judge(self, job: JudgeJob) -> Verdict:
        try:
            async with asyncio.timeout(self.settings.deadline):
                return await self._judge(job)
        except Judge0Error as error:
            log.warning("Judge0 could not judge submission %s: %s", job.submission_id, error)
            return Verdict(Status.INTERNAL_ERROR, compile_output=str(error))
        except TimeoutError:
            reason = f"Judge0 did not finish judging within {self.settings.deadline:g} s"
            log.warning("submission %s: %s", job.submission_id, reason)
            return Verdict(Status.INTERNAL_ERROR, compile_output=reason)
        except Exception:
            log.exception("judging submission %s with Judge0 failed", job.submission_id)
            return Verdict(Status.INTERNAL_ERROR, compile_output=UNEXPECTED_FAILURE)

    async def _judge(self, job: JudgeJob) -> Verdict:
        tests = job.tests
        if not tests:
            return Verdict(Status.INTERNAL_ERROR, compile_output="this problem has no tests to judge against")
        size = self.settings.max_batch_size
        results: list[Mapping[str, Any] | None] = [None] * len(tests)
        tokens: list[str] = []
        waiting = _Waiting(results, self.settings.callback_url) if self.settings.callback_url else None
        submissions = [self._submission(job, case, waiting) for case in tests]
        try:
            if waiting is not None:
                with self._lock:
                    self._waiting[waiting.secret] = waiting
            for start in range(0, len(submissions), size):
                chunk = await self.client.submit(submissions[start : start + size], first_test=start)
                tokens.extend(chunk)
                if waiting is not None:
                    with self._lock:
                        waiting.expect(chunk, start)
            if waiting is not None:
                verdict = await self._await_callbacks(waiting)
                if verdict is not None:
                    return verdict
                log.warning(
                    "no Judge0 callback for %g s (submission %s): polling instead",
                    self.settings.callback_fallback_after,
                    job.submission_id,
                )
            return await self._poll(tokens, results)
        finally:
            if waiting is not None:
                with self._lock:
                    self._waiting.pop(waiting.secret, None)

    def _submission(self, job: JudgeJob, case: TestCase, waiting: _Waiting | None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "source_code": encode(job.code),
            "language_id": job.language_id,
            "stdin": encode(case.input),
            "expected_output": encode(case.expected_output),
            **self.settings.limits_for(job.language_id).fields(),
        }
        if waiting is not None:
            body["callback_url"] = waiting.url
        return body

    def combine(self, results: Sequence[Mapping[str, Any] | None]) -> Verdict | None:
        """The submission's verdict from its tests' results so far; None while it is not known yet."""
        slowest: float | None = None
        peak: int | None = None
        compiled: str | None = None
        for index, result in enumerate(results):
            if result is None:
                return None
            status = _status(result)
            if status is None:
                raise Judge0Error(f"Judge0 answered an unknown status {_status_id(result)!r} for test {index}")
            if not status.final:
                return None
            if status is Status.COMPILATION_ERROR:
                output = self._truncate(decode(result.get("compile_output")) or "")
                return Verdict(status, compile_output=output or "Judge0 reported a compilation error without output")
            if status is Status.INTERNAL_ERROR:
                message = decode(result.get("message"))
                log.warning("Judge0 Internal Error on test %d: %s", index, message)
                return Verdict(
                    status, compile_output=f"Judge0 could not run test {index} (Internal Error)", failed_test=index
                )
            if index == 0:
                compiled = self._truncate(decode(result.get("compile_output")) or "") or None
            seconds, kilobytes = _seconds(result.get("time")), _kilobytes(result.get("memory"))
            if seconds is not None:
                slowest = seconds if slowest is None else max(slowest, seconds)
            if kilobytes is not None:
                peak = kilobytes if peak is None else max(peak, kilobytes)
            if status is not Status.ACCEPTED:
                return Verdict(status, _rounded(slowest), peak, compiled, index)
        return Verdict(Status.ACCEPTED, _rounded(slowest), peak, compiled)

    def _truncate(self, text: str) -> str:
        limit = self.settings.compile_output_limit
        return text if len(text) <= limit else text[:limit] + "\n[compiler output truncated]\n"

    async def _poll(self, tokens: Sequence[str], results: list[Mapping[str, Any] | None]) -> Verdict:
        for interval in poll_intervals(self.settings):
            verdict = self.combine(results)
            if verdict is not None:
                return verdict
            await asyncio.sleep(interval)
            needed = results[: self._needed(results)]
            unfinished = [index for index, result in enumerate(needed) if result is None or not _final(result)]
            for start in range(0, len(unfinished), self.settings.max_batch_size):
                indexes = unfinished[start : start + self.settings.max_batch_size]
                found = await self.client.results([tokens[index] for index in indexes])
                for index, result in zip(indexes, found, strict=True):
                    results[index] = result
        raise AssertionError("unreachable")

    @staticmethod
    def _needed(results: Sequence[Mapping[str, Any] | None]) -> int:
        """How many of the tests, from the first, can still matter (those up to the first known failure)."""
        for index, result in enumerate(results):
            if result is not None and _final(result) and _status(result) is not Status.ACCEPTED:
                return index + 1
        return len(results)

    # Callbacks.

    async def _await_callbacks(self, waiting: _Waiting) -> Verdict | None:
        """The verdict once enough callbacks came; None when none came for `callback_fallback_after` s."""
        quiet = self.settings.callback_fallback_after
        while True:
            waiting.arrived.clear()
            verdict = self.combine(waiting.results)
            if verdict is not None:
                return verdict
            try:
                async with asyncio.timeout(quiet):
                    await waiting.arrived.wait()
            except TimeoutError:
                return None

    def deliver_callback(self, secret: str, body: bytes | str | Mapping[str, Any]) -> bool:
        """Hand over a result Judge0 PUT to `{callback_url}/{secret}` (its JSON body, raw or parsed).

        True when a judging with that secret is waiting and the result is one of its tests'
        (or may be: it came before Judge0 answered the batch); False otherwise (an unknown or
        finished judging, a token not its own). Raises ValueError for a body that is not a
        Judge0 result. Safe to call from any thread.
        """
        if isinstance(body, bytes | str):
            try:
                body = json.loads(body)
            except ValueError:
                raise ValueError("a Judge0 callback body must be JSON") from None
        if not isinstance(body, Mapping):
            raise ValueError("a Judge0 callback body must be a JSON object")
        token = body.get("token")
        if not isinstance(token, str) or not token or _status_id(body) is None:
            raise ValueError("a Judge0 callback body needs a token and a status id")
        with self._lock:
            waiting = self._waiting.get(secret)
            if waiting is None or not waiting.accepts(token):
                return False
        if not _final(body):
            return True
        try:
            waiting.loop.call_soon_threadsafe(self._receive, waiting, token, body)
        except RuntimeError:  # its loop is closed: nobody waits any more
            return False
        return True

    def _receive(self, waiting: _Waiting, token: str, body: Mapping[str, Any]) -> None:
        with self._lock:
            waiting.receive(token, body)


def _status(result: Mapping[str, Any]) -> Status | None:
    try:
        return Status(_status_id(result))
    except ValueError:
        return None


def _final(result: Mapping[str, Any]) -> bool:
    status = _status(result)
    return status is not None and status.final


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 3)

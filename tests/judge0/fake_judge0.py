"""A Judge0-like HTTP server for the Judge0 client's tests. A real Judge0 was not part of the tests.

`Judge0LikeServer` is a protocol double, not a judge: it follows the Judge0 CE 1.13.x API as
docs/protocols.md, "Judge0", documents it (paths, query flags, bodies, status codes, Base64
with Ruby's newline every 60 characters, `time` as a string of seconds, callbacks as PUTs of
the default fields, always Base64) and runs nothing. What it "judges" is decided like this:

- the program is taken to echo its input: its stdout is the stdin minus the directive lines
  below, and the run is Accepted when that equals `expected_output` up to trailing whitespace
  on each line and at the end (Judge0's comparison), else Wrong Answer;
- directive lines in a test's stdin change that run: `#fake status N` ends it with status id
  N (a runtime error, a time limit…), `#fake time 0.25` and `#fake memory 4096` set the
  reported CPU seconds and KB (else "0.010" and 1024), `#fake polls N` keeps it from being
  final for N polls instead of the server's `polls_before_final`;
- a source containing `COMPILE_ERROR:` fails to compile on every test (status 6), the rest of
  that line and all lines after it being the compile output; `COMPILE_WARNING:` likewise
  gives compile output to runs that otherwise proceed as above.

The first `polls_before_final` polls of a submission see In Queue (the first) or Processing
(the others); later polls see its final status. With a `callback_url` it is finished
at once and its result PUT there (one try, where Judge0 makes three). `refuse_next` makes the
next requests fail with a status (429, 503…), as a rate limit or a full queue would.

Stricter than Judge0, to catch a client's mistakes: Base64 fields must be valid Base64 of
UTF-8 text (Judge0 decodes leniently); such a failure is a 422 for that submission.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.js_clients import live_server

LANGUAGES = [  # as in Judge0 CE 1.13.x (docs/protocols.md, "Judge0"), plus one id ours does not use
    {"id": 50, "name": "C (GCC 9.2.0)"},
    {"id": 54, "name": "C++ (GCC 9.2.0)"},
    {"id": 62, "name": "Java (OpenJDK 13.0.1)"},
    {"id": 63, "name": "JavaScript (Node.js 12.14.0)"},
    {"id": 71, "name": "Python (3.8.1)"},
    {"id": 46, "name": "Bash (5.0.0)"},
]
STATUS_DESCRIPTIONS = {
    1: "In Queue",
    2: "Processing",
    3: "Accepted",
    4: "Wrong Answer",
    5: "Time Limit Exceeded",
    6: "Compilation Error",
    7: "Runtime Error (SIGSEGV)",
    8: "Runtime Error (SIGXFSZ)",
    9: "Runtime Error (SIGFPE)",
    10: "Runtime Error (SIGABRT)",
    11: "Runtime Error (NZEC)",
    12: "Runtime Error (Other)",
    13: "Internal Error",
    14: "Exec Format Error",
}
DEFAULT_FIELDS = ["token", "time", "memory", "stdout", "stderr", "compile_output", "message", "status"]
KNOWN_FIELDS = {
    *DEFAULT_FIELDS,
    "source_code",
    "language_id",
    "stdin",
    "expected_output",
    "status_id",
    "wall_time",
    "exit_code",
    "exit_signal",
    "created_at",
    "finished_at",
    "cpu_time_limit",
    "wall_time_limit",
    "memory_limit",
    "callback_url",
}
TEXT_FIELDS = {"source_code", "stdin", "expected_output", "stdout", "stderr", "compile_output", "message"}
BASE64_REQUEST_FIELDS = ("source_code", "stdin", "expected_output")
RANGES = {  # Judge0 CE defaults: field → (min, max)
    "cpu_time_limit": (0, 15),
    "wall_time_limit": (1, 20),
    "memory_limit": (2048, 512000),
}
DIRECTIVE = re.compile(r"^#fake (status|time|memory|polls) (\S+)\s*$")


def ruby_encode64(text: str) -> str:
    """Base64 as Ruby's `Base64.encode64` writes it: a newline after every 60 characters and at the end."""
    flat = base64.b64encode(text.encode("utf-8")).decode("ascii")
    return "".join(flat[i : i + 60] + "\n" for i in range(0, len(flat), 60))


def strict_decode(value: str) -> str:
    return base64.b64decode(value, validate=True).decode("utf-8")


def judge0_normalize(text: str) -> str:
    """Judge0's comparison: trailing whitespace off each line and off the whole text."""
    return "\n".join(line.rstrip() for line in text.rstrip().split("\n"))


@dataclass
class FakeSubmission:
    token: str
    request: dict[str, Any]  # as sent, but Base64 fields decoded
    polls: int = 0
    finished: bool = False
    status_id: int = 3
    stdout: str | None = None
    compile_output: str | None = None
    time: str | None = "0.010"
    memory: int | None = 1024
    polls_before_final: int | None = None  # None: the server's

    def run(self) -> None:
        """Decide the outcome now (deterministically) from the source, stdin and expected output."""
        source = self.request.get("source_code") or ""
        for marker in ("COMPILE_ERROR:", "COMPILE_WARNING:"):
            if marker in source:
                self.compile_output = source.split(marker, 1)[1].strip()
                if marker == "COMPILE_ERROR:":
                    self.status_id, self.time, self.memory = 6, None, None
                    return
        kept, forced = [], None
        for line in (self.request.get("stdin") or "").split("\n"):
            match = DIRECTIVE.match(line)
            if match is None:
                kept.append(line)
            elif match[1] == "status":
                forced = int(match[2])
            elif match[1] == "time":
                self.time = match[2]
            elif match[1] == "polls":
                self.polls_before_final = int(match[2])
            else:
                self.memory = int(match[2])
        self.stdout = "\n".join(kept)
        expected = self.request.get("expected_output")
        if forced is not None:
            self.status_id = forced
        elif expected is None or judge0_normalize(self.stdout) == judge0_normalize(expected):
            self.status_id = 3
        else:
            self.status_id = 4

    def view(self, fields: list[str], base64_encoded: bool) -> dict[str, Any]:
        final = self.finished
        status_id = self.status_id if final else (1 if self.polls <= 1 else 2)
        values: dict[str, Any] = {
            **self.request,
            "token": self.token,
            "status": {"id": status_id, "description": STATUS_DESCRIPTIONS.get(status_id, "?")},
            "status_id": status_id,
            "stdout": self.stdout if final else None,
            "stderr": None,
            "compile_output": self.compile_output if final else None,
            "message": "fake: nothing was run" if final and self.status_id == 13 else None,
            "time": self.time if final else None,
            "wall_time": self.time if final else None,
            "memory": self.memory if final else None,
            "exit_code": 0 if final and self.status_id == 3 else None,
            "exit_signal": None,
            "created_at": "2024-01-01T00:00:00.000Z",
            "finished_at": "2024-01-01T00:00:01.000Z" if final else None,
        }
        view = {name: values.get(name) for name in fields}
        if base64_encoded:
            for name in TEXT_FIELDS & view.keys():
                if view[name] is not None:
                    view[name] = ruby_encode64(view[name])
        return view


@dataclass
class Refusal:
    status: int
    body: Any = None
    retry_after: str | None = None
    method: str | None = None


@dataclass
class Judge0LikeServer:
    """See the module docstring. Everything it saw is recorded for the tests to check."""

    auth_token: str | None = None
    polls_before_final: int = 0
    batch_limit: int = 20
    languages: list[dict[str, Any]] = field(default_factory=lambda: list(LANGUAGES))

    submissions: dict[str, FakeSubmission] = field(default_factory=dict)
    batches: list[list[dict[str, Any]]] = field(default_factory=list)  # each POST's decoded submissions
    polls: list[list[str]] = field(default_factory=list)  # each GET /submissions/batch's tokens
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)  # refused ones too
    auth_headers: list[str | None] = field(default_factory=list)
    callbacks: list[tuple[str, int | str]] = field(default_factory=list)  # (token, HTTP status or error)
    called_back: asyncio.Event = field(default_factory=asyncio.Event)  # set at each callback made
    language_requests: int = 0
    _refusals: list[Refusal] = field(default_factory=list)
    _tasks: set[asyncio.Task] = field(default_factory=set)

    def refuse_next(
        self, status: int, times: int = 1, body: Any = None, retry_after: str | None = None, method: str | None = None
    ) -> None:
        """The next `times` requests (of `method`, if given) are answered `status` (`body` as JSON), not served."""
        self._refusals.extend(Refusal(status, body, retry_after, method) for _ in range(times))

    @property
    def posts(self) -> int:
        return sum(1 for method, path, _ in self.requests if (method, path) == ("POST", "/submissions/batch"))

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/submissions/batch", self._create_batch, methods=["POST"]),
                Route("/submissions/batch", self._get_batch, methods=["GET"]),
                Route("/languages", self._languages, methods=["GET"]),
            ]
        )

    @contextlib.asynccontextmanager
    async def serve(self) -> AsyncIterator[str]:
        """Serves the fake on a free loopback port; yields its base URL."""
        async with live_server(self.app(), lifespan="off") as base_url:
            try:
                yield base_url
            finally:
                if self._tasks:  # let callbacks under way finish (each has a 5 s timeout)
                    await asyncio.wait(list(self._tasks), timeout=10)
                for task in list(self._tasks):
                    task.cancel()
                await asyncio.gather(*self._tasks, return_exceptions=True)

    def _gate(self, request: Request) -> Response | None:
        """The refusal this request gets (auth first, as Judge0 checks it before anything), or None."""
        self.requests.append((request.method, request.url.path, dict(request.query_params)))
        sent = request.headers.get("x-auth-token") or request.query_params.get("X-Auth-Token")
        self.auth_headers.append(sent)
        if self.auth_token is not None and sent != self.auth_token:
            return Response(status_code=401)
        refusal = next((r for r in self._refusals if r.method in (None, request.method)), None)
        if refusal is not None:
            self._refusals.remove(refusal)
            headers = {"Retry-After": refusal.retry_after} if refusal.retry_after else None
            if refusal.body is None:
                return Response(status_code=refusal.status, headers=headers)
            return JSONResponse(refusal.body, status_code=refusal.status, headers=headers)
        return None

    async def _create_batch(self, request: Request) -> Response:
        if (refused := self._gate(request)) is not None:
            return refused
        base64_encoded = request.query_params.get("base64_encoded") == "true"
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "the body is not JSON"}, status_code=400)
        items = body.get("submissions") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            return JSONResponse({"error": "there should be at least one submission in a batch"}, status_code=422)
        if len(items) > self.batch_limit:
            message = f"number of submissions in a batch should be less than or equal to {self.batch_limit}"
            return JSONResponse({"error": message}, status_code=422)
        answers, decoded_batch = [], []
        for item in items:
            errors, decoded = self._validate(item, base64_encoded)
            decoded_batch.append(decoded)
            if errors:
                answers.append(errors)
                continue
            submission = FakeSubmission(str(uuid.uuid4()), decoded)
            submission.run()
            self.submissions[submission.token] = submission
            answers.append({"token": submission.token})
            if decoded.get("callback_url"):
                task = asyncio.create_task(self._call_back(submission))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        self.batches.append(decoded_batch)
        if all("token" not in answer for answer in answers):
            return JSONResponse(answers, status_code=422)
        return JSONResponse(answers, status_code=201)

    def _validate(self, item: Any, base64_encoded: bool) -> tuple[dict[str, list[str]], dict[str, Any]]:
        if not isinstance(item, dict):
            return {"submission": ["must be an object"]}, {}
        errors: dict[str, list[str]] = {}
        decoded = dict(item)
        if base64_encoded:
            for name in BASE64_REQUEST_FIELDS:
                if decoded.get(name) is not None:
                    try:
                        decoded[name] = strict_decode(decoded[name])
                    except (binascii.Error, ValueError, TypeError):
                        errors[name] = ["is not Base64 of UTF-8 text"]
        if not decoded.get("source_code"):
            errors.setdefault("source_code", ["can't be blank"])
        language_id = decoded.get("language_id")
        if language_id not in {language["id"] for language in self.languages}:
            errors["language_id"] = [f"language with id {language_id} doesn't exist"]
        for name, (low, high) in RANGES.items():
            value = decoded.get(name)
            if value is None:
                continue
            if not isinstance(value, int | float):
                errors[name] = ["is not a number"]
            elif value > high:
                errors[name] = [f"must be less than or equal to {high}"]
            elif value < low:
                errors[name] = [f"must be greater than or equal to {low}"]
        return errors, decoded

    async def _get_batch(self, request: Request) -> Response:
        if (refused := self._gate(request)) is not None:
            return refused
        tokens = [token for token in request.query_params.get("tokens", "").split(",") if token]
        if not tokens:
            return JSONResponse({"error": "there should be at least one token"}, status_code=422)
        if len(tokens) > self.batch_limit:
            message = f"number of tokens should be less than or equal to {self.batch_limit}"
            return JSONResponse({"error": message}, status_code=422)
        fields_param = request.query_params.get("fields")
        if fields_param is None:
            fields = DEFAULT_FIELDS
        elif fields_param == "*":
            fields = sorted(KNOWN_FIELDS)
        else:
            fields = [name.strip() for name in fields_param.split(",") if name.strip()]
            unknown = [name for name in fields if name not in KNOWN_FIELDS]
            if unknown:
                return JSONResponse({"error": f"invalid fields: {unknown}"}, status_code=400)
        base64_encoded = request.query_params.get("base64_encoded") == "true"
        self.polls.append(tokens)
        found = []
        for token in tokens:
            submission = self.submissions.get(token)
            if submission is None:
                found.append(None)
                continue
            submission.polls += 1
            hold = submission.polls_before_final
            if submission.polls > (self.polls_before_final if hold is None else hold):
                submission.finished = True
            found.append(submission.view(fields, base64_encoded))
        return JSONResponse({"submissions": found})

    async def _languages(self, request: Request) -> Response:
        if (refused := self._gate(request)) is not None:
            return refused
        self.language_requests += 1
        return JSONResponse(sorted(self.languages, key=lambda language: language["name"]))

    async def _call_back(self, submission: FakeSubmission) -> None:
        submission.finished = True
        body = submission.view(DEFAULT_FIELDS, base64_encoded=True)
        try:
            async with httpx.AsyncClient(timeout=5.0) as client:
                response = await client.put(submission.request["callback_url"], json=body)
            self.callbacks.append((submission.token, response.status_code))
        except httpx.HTTPError as error:
            self.callbacks.append((submission.token, type(error).__name__))
        self.called_back.set()

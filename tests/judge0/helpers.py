"""Helpers of the Judge0 client's tests: a judge on a Judge0-like server, and the callback route.

A real Judge0 was not part of the tests: the server is tests/judge0/fake_judge0.py.
"""

from __future__ import annotations

import contextlib
import dataclasses
import socket
from collections.abc import AsyncIterator, Iterator, Sequence

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from judge.cases import TestCase
from judge.interface import JudgeJob
from judge.judge0 import Judge0Judge, Judge0Settings
from tests.js_clients import live_server
from tests.judge0.fake_judge0 import Judge0LikeServer

# Short waits so that the tests are quick; a deadline far enough not to matter unless a test sets one.
QUICK = {
    "poll_initial_interval": 0.01,
    "poll_max_interval": 0.05,
    "retry_initial_interval": 0.01,
    "retry_max_interval": 0.05,
    "max_attempts": 3,
    "deadline": 10.0,
}
SOURCE = "print(input())"


def job(code: str = SOURCE, language_id: int = 71, question_id: int = 1) -> JudgeJob:
    return JudgeJob(submission_id=1, question_id=question_id, language_id=language_id, code=code)


class JudgeWithTests:
    """A judge whose every job carries `tests`, as a room's jobs carry their question's."""

    def __init__(self, judge: Judge0Judge, tests: Sequence[TestCase]) -> None:
        self.inner = judge
        self.tests = tuple(tests)

    async def judge(self, job: JudgeJob):
        return await self.inner.judge(dataclasses.replace(job, tests=self.tests))

    def __getattr__(self, name: str):
        return getattr(self.inner, name)


@contextlib.asynccontextmanager
async def judge_on(server: Judge0LikeServer, tests: Sequence[TestCase], **settings) -> AsyncIterator[Judge0Judge]:
    """A Judge0Judge whose question has `tests`, talking to `server` (served for the duration)."""
    async with server.serve() as base_url:
        judge = JudgeWithTests(Judge0Judge(Judge0Settings(**{"base_url": base_url, **QUICK, **settings})), tests)
        try:
            yield judge
        finally:
            await judge.aclose()


def callback_route(judges: list[Judge0Judge]) -> Starlette:
    """The route the server must mount at `callback_url`: Judge0 PUTs a result, the judge gets it."""

    async def receive(request: Request) -> Response:
        try:
            delivered = judges[0].deliver_callback(request.path_params["secret"], await request.body())
        except ValueError as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        return Response(status_code=204 if delivered else 404)

    return Starlette(routes=[Route("/judge0/callback/{secret}", receive, methods=["PUT"])])


@contextlib.asynccontextmanager
async def callback_receiver() -> AsyncIterator[tuple[str, list[Judge0Judge]]]:
    """(callback URL, the list to put the receiving judge in)."""
    judges: list[Judge0Judge] = []
    async with live_server(callback_route(judges), lifespan="off") as base_url:
        yield f"{base_url}/judge0/callback", judges


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def silent_server() -> Iterator[str]:
    """A loopback port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"

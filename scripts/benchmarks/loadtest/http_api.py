"""The server's HTTP API as the simulated users call it: every request timed, every failure counted by kind.

aiohttp, because a load generator on the server's own machine must spend little CPU per request:
its connection pool hands out a kept-alive connection in constant time however many are open.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from benchmarks.loadtest.recorder import Recorder
from benchmarks.loadtest.tasks import all_or_none

# Dev-login user ids of one run: a random block of a million ids below 2**31, so that runs against
# the same server do not meet each other's users (a user in a room still running could not join).
DEV_ID_BLOCK = 1_000_000
DEV_ID_BASE = 1_000_000_000
ACCESS_COOKIE = "jwt_access_token"
JUDGE_BUSY = "The judge is busy"  # the message of a submission refused because the judge's queue is full


def session(base_url: str, timeout: float) -> aiohttp.ClientSession:
    """One HTTP client for every simulated user: no cap on connections (each user is its own browser),
    and no cookie jar, so that a login's cookies never reach another user's requests."""
    return aiohttp.ClientSession(
        base_url,
        connector=aiohttp.TCPConnector(limit=0),
        cookie_jar=aiohttp.DummyCookieJar(),
        timeout=aiohttp.ClientTimeout(total=timeout),
    )


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]  # case-insensitive
    body: bytes
    cookies: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")


class StepFailed(Exception):
    """A step of a simulated user failed; the error is already counted, the user gives up."""


class Refused(StepFailed):
    """The server answered with a status the step did not expect."""

    def __init__(self, name: str, answer: Answer) -> None:
        super().__init__(f"{name}: {answer.status} {answer.text[:200]}")
        self.answer = answer

    def retry_after(self, cap: float) -> float | None:
        """Seconds to wait before sending the request again (Retry-After, at most `cap`), or None: do not.

        Only refusals that say the request was not taken are retried: 429, and the 503 of a full judge
        queue. Another 503 (an actor call that timed out) may have been applied, so a retry could count twice.
        """
        status = self.answer.status
        if status != 429 and not (status == 503 and JUDGE_BUSY in self.answer.text):
            return None
        try:
            return min(cap, max(0.0, float(self.answer.headers.get("Retry-After", "1"))))
        except ValueError:
            return 1.0


@dataclass(frozen=True)
class User:
    id: int
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Api:
    def __init__(self, http: aiohttp.ClientSession, recorder: Recorder) -> None:
        self.http = http
        self.recorder = recorder

    async def call(
        self, method: str, route: str, url: str, *, user: User | None = None, expect: tuple[int, ...] = (200,), **kwargs
    ) -> Answer:
        """The answer, if its status is one of `expect`; otherwise the error is counted and StepFailed raised.

        `route` names the request in the report (`POST /rooms/join`, `GET /rooms/{roomId}`).
        """
        if user is not None:
            kwargs["headers"] = {**kwargs.get("headers", {}), **user.auth}
        name = f"{method} {route}"
        started = time.perf_counter()
        try:
            async with self.http.request(method, url, **kwargs) as response:
                body = await response.read()
                cookies = {key: morsel.value for key, morsel in response.cookies.items()}
                answer = Answer(response.status, response.headers.copy(), body, cookies)
        except TimeoutError:
            self.recorder.request(name, (time.perf_counter() - started) * 1000, ok=False)
            self.recorder.error(f"timeout {name}")
            raise StepFailed(name) from None
        except aiohttp.ClientError as error:
            self.recorder.request(name, (time.perf_counter() - started) * 1000, ok=False)
            self.recorder.error(f"transport {type(error).__name__} {name}")
            raise StepFailed(name) from None
        ok = answer.status in expect
        self.recorder.request(name, (time.perf_counter() - started) * 1000, ok)
        if not ok:
            self.recorder.error(f"HTTP {answer.status} {name}")
            raise Refused(name, answer)
        return answer


class Users:
    """Makes the simulated users: dev login (`POST /auth/login?userId=`) or register + log in."""

    def __init__(self, api: Api, mode: str) -> None:
        self.api = api
        self.mode = mode
        self.run = secrets.token_hex(4)
        self.base = DEV_ID_BASE + secrets.randbelow(1000) * DEV_ID_BLOCK
        self.numbers = itertools.count(1)

    async def resolve_mode(self) -> str:
        """`auto` becomes `dev` when the server answers dev login, else `register`."""
        if self.mode == "auto":
            try:
                async with self.api.http.post("/auth/login", params={"userId": self.base}) as response:
                    offered = response.status == 200
            except (TimeoutError, aiohttp.ClientError):
                offered = False
            self.mode = "dev" if offered else "register"
        return self.mode

    async def new(self) -> User:
        number = next(self.numbers)
        if number >= DEV_ID_BLOCK:
            raise SystemExit(f"a run makes at most {DEV_ID_BLOCK - 1} users")
        if self.mode == "dev":
            user_id = self.base + number
            answer = await self.api.call("POST", "/auth/login", "/auth/login", params={"userId": user_id})
            return User(user_id, answer.json()["token"])
        name = f"lt{self.run}u{number}"
        credentials = {"email": f"{name}@loadtest.example.com", "password": f"pw-{self.run}"}
        registered = await self.api.call(
            "POST", "/users/register", "/users/register", json={"username": name, **credentials}, expect=(201,)
        )
        answer = await self.api.call("POST", "/users/login", "/users/login", json=credentials)
        token = answer.cookies.get(ACCESS_COOKIE)
        if not token:
            self.api.recorder.error("POST /users/login set no access-token cookie")
            raise StepFailed("no access token")
        return User(int(registered.json()["id"]), token)

    async def pair(self) -> tuple[User, User]:
        first, second = await all_or_none(self.new(), self.new())
        return first, second

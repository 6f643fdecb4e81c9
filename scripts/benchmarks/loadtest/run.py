"""One load test: every room, collab session and matching pair as a task, all bounded by --duration.

When the duration is up, whatever is still running is cancelled (its sockets closed) and what it
left open on the server is cleaned up, bounded too: running rooms ended by their hosts, collab
sessions ended, waiting match requests cancelled. Those clean-up requests are not measured.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import traceback

import aiohttp

from benchmarks.loadtest.code import CodeBook
from benchmarks.loadtest.collab import CollabSession
from benchmarks.loadtest.context import Context, Options
from benchmarks.loadtest.http_api import Api, Users, session
from benchmarks.loadtest.matching import MatchingPair
from benchmarks.loadtest.progress import show_progress
from benchmarks.loadtest.recorder import Recorder
from benchmarks.loadtest.report import build
from benchmarks.loadtest.rooms import Room
from benchmarks.loadtest.server_probe import ServerMonitor

CLEANUP_SECONDS = 15.0


async def run(options: Options, base_url: str, server_pid: int | None, found: str, target: dict) -> dict:
    recorder = Recorder()
    async with session(base_url, options.timeout) as http:
        try:
            async with http.get("/health") as health:
                health.raise_for_status()
        except (TimeoutError, aiohttp.ClientError) as error:
            raise SystemExit(f"the server at {base_url} does not answer /health: {error!r}") from None
        api = Api(http, recorder)
        users = Users(api, options.auth)
        await users.resolve_mode()
        context = Context(
            options=options,
            api=api,
            users=users,
            recorder=recorder,
            code=CodeBook(options.code),
            ws_base="ws" + base_url.removeprefix("http"),
            setup_slots=asyncio.Semaphore(options.concurrency),
        )
        monitor = ServerMonitor(server_pid, found, recorder)
        await monitor.start()
        recorder.restart()
        if monitor.memory:
            recorder.server_sample(None, monitor.memory[0])
        watchers = [asyncio.create_task(monitor.run()), asyncio.create_task(show_progress(context, monitor))]
        work = [Room(context, index).run() for index in range(options.rooms)]
        work += [CollabSession(context, index).run() for index in range(options.collab)]
        work += [MatchingPair(context, index).run() for index in range(options.matching // 2)]
        tasks = [asyncio.create_task(job) for job in work]
        done, pending = await asyncio.wait(tasks, timeout=options.duration) if tasks else (set(), set())
        elapsed = recorder.elapsed()
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                recorder.error(f"load tester failure: {task.exception()!r}")
                traceback.print_exception(task.exception(), file=sys.stderr)
        for watcher in watchers:
            watcher.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
        await monitor.sample()
        stopped = "duration reached" if pending else "all work done"
        cleanup = await clean_up(context)
        return build(context, monitor, elapsed, stopped, target, cleanup)


async def clean_up(context: Context) -> dict[str, int]:
    """End what failed or cut-short work left running on the server, without measuring it: how much of it."""
    http = context.api.http

    async def post(url: str, **kwargs) -> bool:
        async with http.post(url, **kwargs) as response:
            return response.status == 200

    groups = {
        "rooms_ended": [post("/rooms/end", params={"roomId": room}, headers=host.auth)
                        for room, host in context.live_rooms.items()],
        "collab_sessions_ended": [post(f"/collab/sessions/{sid}/end", headers=user.auth)
                                  for sid, user in context.live_sessions.items()],
        "match_requests_cancelled": [post("/matching/cancel", json={"userId": str(user.id)}, headers=user.auth)
                                     for user in context.waiting_users.values()],
    }  # fmt: skip
    asked = sum(len(calls) for calls in groups.values())
    done = dict.fromkeys(groups, 0)
    if asked:
        print(f"cleaning up {asked} rooms, sessions and match requests left by failed or cut-short work",
              file=sys.stderr)  # fmt: skip
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(CLEANUP_SECONDS):
                for name, calls in groups.items():
                    outcomes = await asyncio.gather(*calls, return_exceptions=True)
                    done[name] = sum(outcome is True for outcome in outcomes)
    return {**done, "left": asked - sum(done.values())}

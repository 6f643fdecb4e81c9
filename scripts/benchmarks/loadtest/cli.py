"""The command line of `scripts/loadtest`: options, the server to load (running, or started with --serve), the run."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import resource
from pathlib import Path

from benchmarks.loadtest.context import Options
from benchmarks.loadtest.http_api import DEV_ID_BLOCK
from benchmarks.loadtest.report import write
from benchmarks.loadtest.run import run
from benchmarks.loadtest.server_probe import listening_pid
from benchmarks.server import served

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_URL = "http://127.0.0.1:8081"


def positive(kind):
    def parse(text: str):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
        return value

    return parse


def not_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def not_negative_float(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="scripts/loadtest",
        description="Load a running server with simulated contest rooms, collab sessions and matchmaking users; "
        "report what they saw as text, JSON and a PNG plot.",
    )
    p.add_argument("--url", default=DEFAULT_URL, help=f"the server (default {DEFAULT_URL})")
    p.add_argument("--serve", action="store_true",
                   help="start a server of our own instead (fresh SQLite, embedded Ray, DEV_LOGIN, the test judge "
                        "with --code test, else the sandbox) and stop it afterwards")  # fmt: skip
    p.add_argument("--rooms", type=not_negative, default=100, help="contest rooms, two players each (default 100)")
    p.add_argument("--collab", type=not_negative, default=20, help="collab sessions, two editors each (default 20)")
    p.add_argument("--matching", type=not_negative, default=50, help="matchmaking users, an even number (default 50)")
    p.add_argument(
        "--duration",
        type=positive(float),
        default=60.0,
        help="hard bound on the run in seconds; what is still running then is cut short (default 60)",
    )
    p.add_argument(
        "--concurrency",
        type=positive(int),
        default=32,
        help="rooms, sessions and pairs being set up at once (default 32)",
    )
    p.add_argument("--submit-every", type=positive(float), default=5.0,
                   help="seconds between a player's submissions; keep it at or above the server's rate limit "
                        "(default 5 per 10 s: 2 s) (default 5)")  # fmt: skip
    p.add_argument(
        "--wrong-per-right",
        type=not_negative,
        default=1,
        help="wrong submissions before the right one, per problem (default 1)",
    )
    p.add_argument("--code", choices=("test", "real"), default="test",
                   help="test: marker code for the deterministic test judge (JUDGE_BACKEND=test); real: the question "
                        "bank's reference solutions, for a sandbox or Judge0 (default test)")  # fmt: skip
    p.add_argument(
        "--auth",
        choices=("auto", "dev", "register"),
        default="auto",
        help="dev login (DEV_LOGIN=true), or register and log in; auto: dev when the server offers it",
    )
    p.add_argument("--collab-protocol", choices=("hocuspocus", "y-websocket"), default="hocuspocus")
    p.add_argument("--edits", type=not_negative, default=20, help="edits per collab editor (default 20)")
    p.add_argument("--edit-every", type=positive(float), default=1.0, help="seconds between edits (default 1)")
    p.add_argument(
        "--match-wait",
        type=not_negative_float,
        default=2.0,
        help="a matching pair's second user comes up to this many seconds after the first (default 2)",
    )
    p.add_argument(
        "--timeout",
        type=positive(float),
        default=30.0,
        help="seconds a request, a connection or an awaited push may take before it counts as an error",
    )
    p.add_argument("--seed", type=int,
                   help="seed of the random waits (first submission, first edit, a pair's second user), for a run "
                        "that repeats another's; the report records it (default: a new one per run)")  # fmt: skip
    p.add_argument(
        "--out",
        type=Path,
        default=ROOT / "var" / "loadtest",
        help="where report.txt, report.json and report.png go (default var/loadtest)",
    )
    p.add_argument("--server-pid", type=positive(int),
                   help="the server's process, to measure its process tree (default: the process listening on the "
                        "URL's port here, if any)")  # fmt: skip
    return p


def raise_open_files_limit() -> None:
    """Thousands of sockets: the soft limit on open files goes up to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def event_loop_runner():
    """uvloop's runner where it is installed (uvicorn[standard] brings it), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run
    return uvloop.run


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if args.matching % 2:
        p.error("--matching must be even: users are matched in pairs")
    if 2 * args.rooms + 2 * args.collab + args.matching >= DEV_ID_BLOCK:
        p.error(f"a run makes at most {DEV_ID_BLOCK - 1:,} users (2 per room and collab session, 1 per matching user)")
    if args.serve and args.server_pid:
        p.error("--server-pid measures a running server; --serve measures the one it starts")
    options = Options(
        rooms=args.rooms, collab=args.collab, matching=args.matching, duration=args.duration,
        concurrency=args.concurrency, submit_every=args.submit_every, wrong_per_right=args.wrong_per_right,
        code=args.code, auth=args.auth, collab_protocol=args.collab_protocol, edits=args.edits,
        edit_every=args.edit_every, match_wait=args.match_wait, timeout=args.timeout,
        seed=random.randrange(2**32) if args.seed is None else args.seed,
    )  # fmt: skip
    raise_open_files_limit()
    with contextlib.ExitStack() as stack:
        if args.serve:
            settings = {"JUDGE_BACKEND": "test"} if args.code == "test" else {}
            print("starting a server of our own (--serve)…", flush=True)
            url, server = stack.enter_context(served(**settings))
            pid, found = server.pid, "started by --serve"
        elif args.server_pid:
            url, pid, found = args.url.rstrip("/"), args.server_pid, "given by --server-pid"
        else:
            url = args.url.rstrip("/")
            pid, found = listening_pid(url)
        target = {"url": url, "server": "started by --serve" if args.serve else "running"}
        print(f"load test of {url}: {args.rooms} rooms, {args.collab} collab sessions, {args.matching} matching "
              f"users, at most {args.duration:g} s", flush=True)  # fmt: skip
        report = event_loop_runner()(run(options, url, pid, found, target))
    write(report, args.out)
    return 1 if report["errors"]["total"] else 0

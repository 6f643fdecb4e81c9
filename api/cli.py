"""The `peerprep` command: serve, migrate, seed-questions, create-admin."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import getpass
import os
import secrets
import sys
from collections.abc import Iterator

from pydantic import ValidationError

from api.server.malloc_arenas import limit_malloc_arenas
from api.settings import (
    Settings,
    describe_validation_error,
    header_limits,
    runtime_config,
    websocket_max_message_bytes,
)

EXIT_BAD_SETTINGS = 2
# uvicorn's sans-I/O websockets protocol: an idle WebSocket costs the front about half the
# memory of the default implementation (docs/benchmarks-history.md, the contest bench).
WEBSOCKET_PROTOCOL = "websockets-sansio"
# Ray starts its worker processes at niceness 15, below the front; here they are the room
# hosts and judge workers, every submission's path (the judged programs stay at 15:
# judge/supervisor.c). Read by the raylet this server starts; `RAY_ADDRESS` clusters set their own.
RAY_WORKER_NICENESS = ("RAY_worker_niceness", "0")


def load_settings() -> Settings:
    """The settings from the environment, or exit 2 with what is wrong."""
    try:
        return Settings()
    except ValidationError as error:
        print(f"peerprep: {describe_validation_error(error)}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_SETTINGS) from None


def tighten_files(settings: Settings) -> None:
    """At start-up: the data directory and its files, and the SQLite files, for this user only."""
    from persistence.database import sqlite_files
    from persistence.private_files import tighten

    for path, old, new in tighten(settings.data_dir.resolve(), sqlite_files(settings.database)):
        print(f"peerprep: {path} was mode {old:o}, now {new:o} (this user only)", file=sys.stderr, flush=True)


@contextlib.contextmanager
def _one_ray_for_all_workers(settings: Settings, workers: int) -> Iterator[None]:
    """Several workers and no `RAY_ADDRESS`: a Ray head in this (the parent) process, which every
    worker joins instead of starting a Ray of its own, so they are fronts of one cluster.

    The head stops with the server. It asks for a token (`RAY_AUTH_MODE=token` and a fresh
    `RAY_AUTH_TOKEN`, which the workers inherit) unless the environment chose an auth mode.
    """
    if workers == 1 or settings.ray_address or not settings.actors_enabled:
        yield
        return
    if "RAY_AUTH_MODE" not in os.environ:  # read when Ray is imported
        os.environ.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(24))
    import ray

    from actors.hosting.runtime import start_cluster_head

    address, node_ip = start_cluster_head(runtime_config(settings))
    os.environ.update(RAY_ADDRESS=address, RAY_NODE_IP=node_ip)
    print(f"peerprep: {workers} workers join one Ray cluster, started here at {address}", flush=True)
    try:
        yield
    finally:
        ray.shutdown()


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    host = args.host or settings.host
    port = args.port or settings.port
    if not settings.ray_address:
        os.environ.setdefault(*RAY_WORKER_NICENESS)
    limit_malloc_arenas()
    with _one_ray_for_all_workers(settings, args.workers):
        print(f"peerprep: serving http://{host}:{port} (docs at /docs); database {settings.database}", flush=True)
        _run_uvicorn(settings, host, port, args.workers)
    return 0


def protocol_options(settings: Settings) -> dict:
    """uvicorn's protocols and their limits: h11 with the request-head limits
    (api/server/http_limits.py), the sans-I/O WebSocket protocol refusing messages larger than
    any the app takes."""
    from api.server.http_limits import LimitedH11Protocol

    return dict(
        http=functools.partial(LimitedH11Protocol, limits=header_limits(settings)),
        ws=WEBSOCKET_PROTOCOL,
        ws_max_size=websocket_max_message_bytes(settings),
        ws_per_message_deflate=settings.ws_per_message_deflate,
    )


def _run_uvicorn(settings: Settings, host: str, port: int, workers: int) -> None:
    """One process serves with `QuietServer` (wakes once a second while idle); several are
    uvicorn's supervisor's, which builds a stock server in each."""
    import uvicorn

    from api.server.quiet_server import serve

    options = dict(
        factory=True,
        host=host,
        port=port,
        log_level=settings.log_level,
        access_log=False,
        timeout_graceful_shutdown=5,
        **protocol_options(settings),
    )
    if workers > 1:
        uvicorn.run("api.app:create_app", workers=workers, **options)
    else:
        serve(uvicorn.Config("api.app:create_app", **options))


async def _migrate(settings: Settings) -> None:
    from judge.languages import LANGUAGES
    from persistence.bank import upsert_languages
    from persistence.database import create_engine, session_factory
    from persistence.migrate import upgrade

    await asyncio.to_thread(upgrade, settings.database)
    engine = create_engine(settings.database)
    try:
        async with session_factory(engine)() as session:
            await upsert_languages(session, [(spec.judge0_id, spec.key, spec.name) for spec in LANGUAGES])
    finally:
        await engine.dispose()


async def _seed_questions(settings: Settings) -> str:
    from persistence.bank import load_bank, seed_questions
    from persistence.database import create_engine, session_factory

    engine = create_engine(settings.database)
    try:
        async with session_factory(engine)() as session:
            created, updated, unchanged = await seed_questions(session, load_bank())
    finally:
        await engine.dispose()
    return f"question bank: {created} created, {updated} updated, {unchanged} unchanged"


async def _create_admin(settings: Settings, username: str, email: str, password: str) -> str:
    from api.core.security import Passwords
    from persistence.database import create_engine, session_factory
    from persistence.repositories import users

    passwords = Passwords(settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism)
    engine = create_engine(settings.database)
    try:
        async with session_factory(engine)() as session:
            existing = await users.by_email(session, email)
            if existing is not None:
                if existing.username.lower() != username.strip().lower():
                    raise SystemExit(f"peerprep: {email} belongs to user {existing.username!r}, not {username!r}")
                await users.update(session, existing, password_hash=passwords.hash(password), role="ADMIN")
                return f"user {existing.username} (id {existing.id}) is now an admin"
            try:
                user = await users.create(
                    session,
                    username=username,
                    email=email,
                    password_hash=passwords.hash(password),
                    role="ADMIN",
                )
            except users.DuplicateUser as duplicate:
                raise SystemExit(f"peerprep: {duplicate.field.lower()} already taken") from duplicate
            return f"admin {user.username} created (id {user.id})"
    finally:
        await engine.dispose()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="peerprep", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the API (settings from the environment)")
    serve.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default 1)")
    serve.add_argument("--host", help="override HOST")
    serve.add_argument("--port", type=int, help="override PORT")
    commands.add_parser("migrate", help="bring the database schema up to date")
    commands.add_parser("seed-questions", help="load the question bank (idempotent)")
    admin = commands.add_parser("create-admin", help="create an admin, or promote the user with that email")
    admin.add_argument("--username", required=True)
    admin.add_argument("--email", required=True)
    source = admin.add_mutually_exclusive_group()
    source.add_argument("--password-stdin", action="store_true", help="read the password from stdin's first line")
    source.add_argument("--password", help="the password on the command line (visible in ps; avoid)")
    return parser


def _admin_password(args: argparse.Namespace) -> str | None:
    """The password from stdin, the prompt (typed twice) or, with a warning, the command line;
    None when there is no way to ask (stdin is no terminal and --password-stdin is not given)."""
    if args.password is not None:
        print("peerprep: warning: --password is visible to every user in ps and in the shell history; "
              "use --password-stdin or the prompt", file=sys.stderr)  # fmt: skip
        return args.password
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        return None
    password = getpass.getpass("Password: ")
    if getpass.getpass("Password (again): ") != password:
        raise SystemExit("peerprep: the passwords differ")
    return password


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = load_settings()
    tighten_files(settings)
    if args.command == "serve":
        if args.workers < 1:
            print("peerprep: --workers must be at least 1", file=sys.stderr)
            return EXIT_BAD_SETTINGS
        return _serve(settings, args)
    if args.command == "migrate":
        asyncio.run(_migrate(settings))
        print(f"peerprep: database at head ({settings.database})")
    elif args.command == "seed-questions":
        print(f"peerprep: {asyncio.run(_seed_questions(settings))}")
    elif args.command == "create-admin":
        password = _admin_password(args)
        if password is None:
            print("peerprep: no password: run it in a terminal to be asked, or pipe it with --password-stdin",
                  file=sys.stderr)  # fmt: skip
            return EXIT_BAD_SETTINGS
        if len(password) < 3 or len(args.username.strip()) < 3:
            print("peerprep: username and password need at least 3 characters", file=sys.stderr)
            return EXIT_BAD_SETTINGS
        print(f"peerprep: {asyncio.run(_create_admin(settings, args.username, args.email, password))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

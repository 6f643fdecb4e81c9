"""Real PostgreSQL and Redis for the tests.

Order of preference: a URL given in the environment; a server already running on
localhost; a throwaway server started from installed binaries (pytest-postgresql,
pytest-redis executors). When none of these works, the caller skips with the reason.
"""

from __future__ import annotations

import getpass
import glob
import os
import shutil
import socket
import tempfile
from pathlib import Path

import psycopg
import redis

FORCE_THROWAWAY = os.environ.get("PEERPREP_TEST_THROWAWAY_SERVICES") == "1"


class Unavailable(Exception):
    """Why a service could not be had; the tests that need it are skipped with this text."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres_accepts(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2):
            return True
    except psycopg.Error:
        return False


def _pg_ctl() -> str | None:
    candidates = [
        shutil.which("pg_ctl"),
        *sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True),
    ]
    return next((path for path in candidates if path), None)


def _as_postgres_user(pg_ctl: str, workdir: Path) -> str:
    """PostgreSQL refuses to run as root: run pg_ctl as the `postgres` system user instead."""
    import pwd

    try:
        account = pwd.getpwnam("postgres")
    except KeyError:
        raise Unavailable("running as root and there is no 'postgres' user to start PostgreSQL as") from None
    runuser = shutil.which("runuser")
    if runuser is None:
        raise Unavailable("running as root and runuser is missing, so PostgreSQL cannot be started")
    os.chown(workdir, account.pw_uid, account.pw_gid)
    os.chmod(workdir.parent, os.stat(workdir.parent).st_mode | 0o011)
    wrapper = workdir.parent / f"{workdir.name}-pg_ctl"
    wrapper.write_text(f'#!/bin/sh\nexec {runuser} -u postgres -- {pg_ctl} "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)


class PostgresServer:
    """An admin connection URL (libpq form) to a server, and how to stop it if we started it."""

    def __init__(self) -> None:
        self.executor = None
        self.admin_url = self._find_or_start()

    def _find_or_start(self) -> str:
        given = os.environ.get("PEERPREP_TEST_POSTGRES_URL")
        if given:
            if not _postgres_accepts(given):
                raise Unavailable(f"PEERPREP_TEST_POSTGRES_URL={given} does not accept connections")
            return given
        if not FORCE_THROWAWAY:
            for user in dict.fromkeys(filter(None, [os.environ.get("PGUSER"), "postgres", getpass.getuser()])):
                url = f"postgresql://{user}@127.0.0.1:5432/postgres"
                if _postgres_accepts(url):
                    return url
        return self._start_throwaway()

    def _start_throwaway(self) -> str:
        from pytest_postgresql.executors import PostgreSQLExecutor

        pg_ctl = _pg_ctl()
        if pg_ctl is None:
            raise Unavailable("no PostgreSQL on 127.0.0.1:5432 and no pg_ctl binary to start one")
        port = free_port()
        workdir = Path(tempfile.mkdtemp(prefix="peerprep-pg-"))
        if os.geteuid() == 0:
            pg_ctl = _as_postgres_user(pg_ctl, workdir)
        self.executor = PostgreSQLExecutor(
            executable=pg_ctl,
            host="127.0.0.1",
            port=port,
            datadir=str(workdir / "data"),
            unixsocketdir=str(workdir),
            logfile=str(workdir / "postgresql.log"),
            startparams="-w",
            dbname="postgres",
            user="postgres",
        )
        try:
            self.executor.start()
        except Exception as error:
            raise Unavailable(f"could not start a throwaway PostgreSQL from {pg_ctl}: {error}") from error
        return f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        base = self.admin_url.rsplit("/", 1)[0]
        return f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self.executor is not None:
            self.executor.stop()


class RedisServer:
    def __init__(self) -> None:
        self.executor = None
        self.url = self._find_or_start()

    @staticmethod
    def _answers(url: str) -> bool:
        try:
            return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
        except redis.RedisError:
            return False

    def _find_or_start(self) -> str:
        given = os.environ.get("PEERPREP_TEST_REDIS_URL")
        if given:
            if not self._answers(given):
                raise Unavailable(f"PEERPREP_TEST_REDIS_URL={given} does not answer")
            return given
        if not FORCE_THROWAWAY and self._answers("redis://127.0.0.1:6379/0"):
            return "redis://127.0.0.1:6379/0"
        from pytest_redis.executor import RedisExecutor

        binary = shutil.which("redis-server")
        if binary is None:
            raise Unavailable("no Redis on 127.0.0.1:6379 and no redis-server binary to start one")
        port = free_port()
        self.executor = RedisExecutor(
            executable=binary,
            databases=16,
            redis_timeout=30,
            loglevel="warning",
            host="127.0.0.1",
            port=port,
            datadir=Path(tempfile.mkdtemp(prefix="peerprep-redis-")),
        )
        try:
            self.executor.start()
        except Exception as error:
            raise Unavailable(f"could not start a throwaway Redis from {binary}: {error}") from error
        return f"redis://127.0.0.1:{port}/0"

    def stop(self) -> None:
        if self.executor is not None:
            self.executor.stop()

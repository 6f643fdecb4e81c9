"""Engine and session factory for the two supported backends (SQLite, PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection, Engine, event
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from persistence.private_files import private_directory, private_file

T = TypeVar("T")


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sync_url(url: str) -> str:
    """The same database through a synchronous driver (used by migrations)."""
    parsed = make_url(url)
    if parsed.drivername == "sqlite+aiosqlite":
        parsed = parsed.set(drivername="sqlite")
    return parsed.render_as_string(hide_password=False)


def sqlite_files(url: str) -> list[Path]:
    """The files of a SQLite database URL (the database, its -wal and -shm), or none."""
    database = make_url(url).database
    if not (is_sqlite(url) and database and database != ":memory:"):
        return []
    return [Path(database + suffix) for suffix in ("", "-wal", "-shm")]


def ensure_sqlite_directory(url: str) -> None:
    """A SQLite file's directory (0700 when made here) and the file itself (0600 when made here)."""
    files = sqlite_files(url)
    if files:
        private_directory(files[0].parent)
        private_file(files[0])


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def create_engine(url: str, pool_size: int = 10) -> AsyncEngine:
    if is_sqlite(url):
        ensure_sqlite_directory(url)
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


class Transactions:
    """Short write transactions written against SQLAlchemy's synchronous `Connection`; each is
    committed when `run` returns (rolled back if `work` raises).

    On a SQLite file a transaction runs whole in one thread of its own with the stdlib driver:
    one thread hop per transaction, where aiosqlite takes one per cursor, execute, cursor close,
    commit and pool reset, each waiting for the event loop's thread to give up the GIL (a
    room's verdict took eight). Other databases run it on the async engine
    (`AsyncConnection.run_sync`). The thread and its connection are made on first use.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        database = engine.url.database
        self._sqlite_file = engine.dialect.name == "sqlite" and bool(database) and database != ":memory:"
        self._sync: Engine | None = None
        self._thread: ThreadPoolExecutor | None = None

    async def run(self, work: Callable[[Connection], T]) -> T:
        if not self._sqlite_file:
            async with self._engine.begin() as connection:
                return await connection.run_sync(work)
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-transactions")
            self._sync = create_sync_engine(sync_url(self._engine.url.render_as_string(hide_password=False)))
            event.listen(self._sync, "connect", _sqlite_pragmas)
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._transaction, work)

    def _transaction(self, work: Callable[[Connection], T]) -> T:
        with self._sync.begin() as connection:
            return work(connection)

    def close(self) -> None:
        if self._thread is not None:
            self._thread.submit(self._sync.dispose).result()
            self._thread.shutdown()
            self._thread = self._sync = None

"""`persistence.database.Transactions` on both backends: committed when `run` returns, nothing
written when the work raises, and (SQLite) the work runs off the event loop's thread."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Connection, insert, select

from persistence.database import Transactions
from persistence.models import Language


@pytest.fixture
async def transactions(db_sessions):
    runner = Transactions(db_sessions.kw["bind"])
    yield runner
    runner.close()


async def keys(db_sessions) -> list[str]:
    async with db_sessions() as session:
        return list(await session.scalars(select(Language.key).order_by(Language.id)))


async def test_a_transaction_is_committed_when_run_returns(db_sessions, transactions, settings):
    def add(connection: Connection) -> str:
        connection.execute(insert(Language).values(id=901, key="tx-ok", name="committed"))
        return threading.current_thread().name

    thread = await transactions.run(add)
    assert await keys(db_sessions) == ["tx-ok"]
    on_sqlite = settings.database.startswith("sqlite")
    assert thread.startswith("sqlite-transactions") == on_sqlite


async def test_a_transaction_whose_work_raises_writes_nothing(db_sessions, transactions):
    def add_then_fail(connection: Connection) -> None:
        connection.execute(insert(Language).values(id=902, key="tx-failed", name="rolled back"))
        raise RuntimeError("the work failed")

    with pytest.raises(RuntimeError, match="the work failed"):
        await transactions.run(add_then_fail)
    assert await keys(db_sessions) == []
    await transactions.run(lambda connection: connection.execute(insert(Language).values(id=903, key="b", name="b")))
    assert await keys(db_sessions) == ["b"]

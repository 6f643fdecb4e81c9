"""One Alembic history, from an empty database, on both backends."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from persistence.database import sync_url
from persistence.migrate import downgrade, upgrade
from persistence.models import Base


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(sync_url(url))
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _check_migrations(url: str) -> None:
    upgrade(url)
    expected = set(Base.metadata.tables) | {"alembic_version"}
    assert _tables(url) == expected
    downgrade(url, "base")
    assert _tables(url) == {"alembic_version"}
    upgrade(url)
    assert _tables(url) == expected


def _check_integrity(url: str) -> None:
    """Foreign keys and the CHECK constraints on enum columns hold in the database itself."""
    engine = sa.create_engine(sync_url(url))
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", lambda dbapi, _: dbapi.execute("PRAGMA foreign_keys=ON"))
    checks = [
        "INSERT INTO questions (title, statement, difficulty, example_io, constraints, solution_outline,"
        " created_at, updated_at) VALUES ('t', 's', 'Trivial', '[]', '[]', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        "INSERT INTO rooms (host_user_id, password, status, created_at) VALUES (424242, '1', 'WAITING',"
        " CURRENT_TIMESTAMP)",
        "INSERT INTO users (username, email, role, provider, created_at, updated_at)"
        " VALUES ('x', 'x@e', 'ROOT', 'LOCAL', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    ]
    try:
        for statement in checks:
            try:
                with engine.begin() as connection:
                    connection.exec_driver_sql(statement)
            except sa.exc.IntegrityError:
                continue
            raise AssertionError(f"the database accepted: {statement}")
    finally:
        engine.dispose()


def test_sqlite_from_empty(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    _check_migrations(url)
    _check_integrity(url)


def test_postgresql_from_empty(postgres_server):
    name = f"peerprep_migrate_{uuid.uuid4().hex[:10]}"
    url = postgres_server.create_database(name)
    try:
        _check_migrations(url)
        _check_integrity(url)
    finally:
        postgres_server.drop_database(name)


def test_models_and_migrations_agree(tmp_path):
    """Autogenerate finds nothing to do after the history: no model change lacks a migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    url = f"sqlite+aiosqlite:///{tmp_path / 'agree.db'}"
    upgrade(url)
    engine = sa.create_engine(sync_url(url))
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert diff == []

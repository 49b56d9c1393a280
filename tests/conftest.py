"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL is the real server at 127.0.0.1:5432 (user postgres, database `test`,
or FORMWORK_TEST_PG_URL). Each test gets its own schema, dropped afterwards, so
tests are isolated and can run in parallel. Locally a missing server skips the
PostgreSQL half loudly; under CI=true a missing server fails the run.
"""
from __future__ import annotations

import os
import uuid
import warnings

import pytest
import sqlalchemy as sa

from engine.storage.db import make_engine
from engine.storage.system_upgrade import upgrade_system

PG_URL = os.environ.get("FORMWORK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"

_pg_state: dict[str, object] = {}


def pg_available() -> tuple[bool, str]:
    if "ok" not in _pg_state:
        try:
            probe = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
            with probe.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
            probe.dispose()
            _pg_state.update(ok=True, why="")
        except Exception as exc:  # the server is absent or refuses us
            _pg_state.update(ok=False, why=f"PostgreSQL at {PG_URL} is not reachable: {exc}")
    return bool(_pg_state["ok"]), str(_pg_state["why"])


def require_pg() -> None:
    ok, why = pg_available()
    if ok:
        return
    if IN_CI:
        pytest.fail(f"CI=true requires PostgreSQL: {why}", pytrace=False)
    warnings.warn(f"SKIPPING PostgreSQL tests: {why}")
    pytest.skip(f"SKIPPED LOUDLY: {why}")


def pg_schema_url(schema: str) -> str:
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture
def pg_schema():
    """A fresh PostgreSQL schema; yields its URL and drops it afterwards."""
    require_pg()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield pg_schema_url(schema)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A database URL for an empty database, once per back end."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'formwork.db'}"
    else:
        yield request.getfixturevalue("pg_schema")


@pytest.fixture
def db(db_url):
    """An engine on an empty database with the system tables migrated."""
    engine = make_engine(db_url)
    upgrade_system(engine)
    yield engine
    engine.dispose()


class StatementCounter:
    """Counts SQL statements sent to the database (for no-query-per-row tests)."""

    def __init__(self, engine):
        self.engine = engine
        self.statements: list[str] = []

    def _on_execute(self, conn, cursor, statement, parameters, context, executemany):
        if statement.strip().upper().startswith(("SAVEPOINT", "RELEASE", "BEGIN", "PRAGMA")):
            return
        self.statements.append(statement)

    def __enter__(self):
        sa.event.listen(self.engine, "before_cursor_execute", self._on_execute)
        return self

    def __exit__(self, *exc):
        sa.event.remove(self.engine, "before_cursor_execute", self._on_execute)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_statements():
    return StatementCounter

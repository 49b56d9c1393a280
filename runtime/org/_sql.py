"""SQL helpers shared by the parts of the org service."""
from __future__ import annotations

from typing import Iterable, Iterator, TypeVar

import sqlalchemy as sa

from engine.dialect import Dialect

# At most this many values per call that writes, and per IN list that reads: SQLite binds
# at most 32,766 parameters per statement, and some lookups bind each value twice.
MAX_BATCH = 10_000
T = TypeVar("T")
# Key of the PostgreSQL advisory lock that serialises changes to the department tree
# (two concurrent moves could otherwise build a cycle that neither saw). SQLite needs
# none: a write transaction there already holds the database's single write lock.
_TREE_LOCK_KEY = 0x46574F5247   # "FWORG"


def lock_tree(conn: sa.Connection) -> None:
    """Serialise department-tree changes until the caller's transaction ends."""
    if Dialect.of(conn).advisory_locks:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _TREE_LOCK_KEY})


def insert_returning(conn: sa.Connection, table: sa.Table, rows: list[dict],
                     columns: list[sa.Column]) -> list[sa.Row]:
    """Insert rows in batched statements; the returned rows follow the order of `rows`.

    `columns` must start with the table's id."""
    if not Dialect.of(conn).ordered_returning:
        # SQLite cannot promise RETURNING order, so SQLAlchemy would fall back to one
        # statement per row. Row ids grow inside one write transaction (SQLite holds the
        # write lock), so sorting by id restores the order of `rows`.
        return sorted(conn.execute(table.insert().returning(*columns), rows).all(), key=lambda r: r[0])
    return list(conn.execute(table.insert().returning(*columns, sort_by_parameter_order=True), rows).all())


def insert_missing(conn: sa.Connection, table: sa.Table, rows: list[dict]) -> None:
    """Insert rows, skipping those whose primary key exists: a membership another
    transaction added meanwhile is not an error (the caller checked the others)."""
    conn.execute(Dialect.of(conn).insert(table).on_conflict_do_nothing(), rows)


def chunked(values: Iterable[T], size: int = MAX_BATCH) -> Iterator[list[T]]:
    """Values in lists of at most `size`, for IN lists that stay within parameter limits."""
    batch: list[T] = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch

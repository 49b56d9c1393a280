"""The two databases Formwork runs on, SQLite and PostgreSQL, as the facts its code
branches on:

    dialect = Dialect.of(conn)      # or an engine, a URL, a SQLAlchemy dialect, a name
    if dialect.row_locks:
        query = query.with_for_update()

Code asks for a fact ("does SELECT ... FOR UPDATE lock rows here?") rather than for a
name, so each difference between the two is written down, with its reason, once: here.
A Dialect compared with a str raises TypeError, so `dialect == "sqlite"` cannot come back.
SQLAlchemy's own per-database hooks (`with_variant(..., "sqlite")`, `@compiles(X,
"postgresql")`, `sqlite_where=`) name databases its way and are left as they are.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Mapping

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine.interfaces import Dialect as SqlAlchemyDialect

from engine.errors import FormworkError

__all__ = ["Dialect", "POSTGRESQL", "SQLITE", "DIALECTS", "UnsupportedDatabase"]


class UnsupportedDatabase(FormworkError):
    def __init__(self, name: str):
        self.name = name
        super().__init__(f"Formwork runs on PostgreSQL or SQLite, not {name!r}: set DATABASE_URL "
                         "(or --database-url) to postgresql://user@host/dbname or "
                         "sqlite:///path/to/formwork.db")


@dataclass(frozen=True, eq=False, repr=False)
class Dialect:
    """One database, by what differs: each field is a fact some code branches on."""

    name: str
    # SELECT ... FOR UPDATE locks the rows read. Without it (SQLite) a write transaction
    # holds the whole database (BEGIN IMMEDIATE), so writers never meet on a row.
    row_locks: bool
    # pg_advisory_xact_lock serialises work that no single row stands for; SQLite needs
    # none, for the same reason it needs no row locks.
    advisory_locks: bool
    # Exact numbers are stored as integers scaled by 10**places (SQLite has no exact
    # decimal type; REAL would round); otherwise as NUMERIC.
    scaled_numbers: bool
    # INSERT ... RETURNING of many rows can give them in the order of the rows
    # (sort_by_parameter_order). SQLite cannot promise that, so SQLAlchemy would insert
    # one row per statement; callers sort the ids instead, which grow within a write.
    ordered_returning: bool
    # Where empty values (NULL) sort: as the smallest value (SQLite) or as the largest
    # (PostgreSQL). Keyset pages follow the native place, so a plain index serves them.
    nulls_sort_smallest: bool
    # A bound parameter may be an array (= ANY(:ids), unnest(:values)); SQLite takes a
    # list as JSON text unpacked by json_each instead.
    array_parameters: bool
    # Timestamps keep their time zone (timestamptz); SQLite stores naive UTC values.
    zoned_datetimes: bool
    # There is no DATE type: dates are ISO text ("2024-03-01"), which sorts as dates do.
    dates_as_text: bool
    # A bare literal is typed by how it is written (10 an integer, so power(10, n) a
    # float), also in a statement compiled with its values written in: literals are cast.
    typed_literals: bool
    # Each connection has Formwork's Python functions (engine/formula/sql_sqlite.py,
    # registered by engine/storage/db.py), so SQL may call Python for what it lacks.
    python_functions: bool
    # ALTER INDEX ... RENAME TO exists (SQLite can only drop and create an index again).
    renames_indexes: bool
    # Changing a table beyond adding and renaming columns copies it (Alembic's batch mode).
    alters_by_copy: bool
    # The planner estimates how many rows a query gives (EXPLAIN), an "about" count.
    row_estimates: bool
    # A statement that lets the current transaction commit without waiting for its log to
    # reach the disk (PostgreSQL's synchronous_commit off): safe for bookkeeping whose loss
    # in a server crash only means doing it again, since the log is written in order and
    # any later ordinary commit flushes it first. SQLite (WAL, synchronous=NORMAL) never
    # waits for the disk on commit, so it needs none.
    relaxed_commit: str | None
    # GROUP BY GROUPING SETS (...) and GROUPING(): subtotals in one pass (a pivot's totals).
    # SQLite has neither; the same figures come from a UNION ALL of the groupings.
    grouping_sets: bool
    # Execution options that begin a READ ONLY transaction (SQLite's read-only
    # transactions are begun by engine/storage/db.py's BEGIN handler instead).
    read_only_options: Mapping[str, Any]
    _insert: Callable[[sa.Table], Any]

    def insert(self, table: sa.Table) -> Any:
        """An INSERT of this database's own, with ON CONFLICT DO ... for upserts."""
        return self._insert(table)

    @classmethod
    def of(cls, source: Any) -> "Dialect":
        """The Dialect of a connection, engine, compiler, SQLAlchemy dialect, URL or a
        name ("sqlite", "postgresql"); raises UnsupportedDatabase for any other database."""
        if isinstance(source, Dialect):
            return source
        name = _name_of(source)
        found = _BY_NAME.get(name)
        if found is None:
            raise UnsupportedDatabase(name)
        return found

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            raise TypeError(f"{self!r} compared with the text {other!r}: ask for a fact of the "
                            "dialect (dialect.row_locks, ...) or compare with POSTGRESQL or SQLITE")
        if isinstance(other, Dialect):
            return self.name == other.name
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"Dialect({self.name})"


def _name_of(source: Any) -> str:
    if isinstance(source, SqlAlchemyDialect):
        return source.name
    if isinstance(source, str):
        return source
    if isinstance(source, sa.URL):
        return source.get_backend_name()
    inner = getattr(source, "dialect", None)      # an Engine, a Connection, a compiler
    if isinstance(inner, SqlAlchemyDialect):
        return inner.name
    raise TypeError(f"Dialect.of takes a connection, engine, compiler, SQLAlchemy dialect, URL "
                    f"or database name, not {type(source).__name__}")


POSTGRESQL = Dialect(
    "postgresql", row_locks=True, advisory_locks=True, scaled_numbers=False, ordered_returning=True,
    nulls_sort_smallest=False, array_parameters=True, zoned_datetimes=True, dates_as_text=False,
    typed_literals=True, python_functions=False, renames_indexes=True, alters_by_copy=False,
    row_estimates=True, relaxed_commit="SET LOCAL synchronous_commit TO OFF", grouping_sets=True,
    read_only_options=MappingProxyType({"postgresql_readonly": True}),
    _insert=postgresql.insert)

SQLITE = Dialect(
    "sqlite", row_locks=False, advisory_locks=False, scaled_numbers=True, ordered_returning=False,
    nulls_sort_smallest=True, array_parameters=False, zoned_datetimes=False, dates_as_text=True,
    typed_literals=False, python_functions=True, renames_indexes=False, alters_by_copy=True,
    row_estimates=False, relaxed_commit=None, grouping_sets=False, read_only_options=MappingProxyType({}), _insert=sqlite.insert)

# Both, in the order formulas are translated for them (the first refusal is the one told).
DIALECTS = (POSTGRESQL, SQLITE)
_BY_NAME = {dialect.name: dialect for dialect in DIALECTS}

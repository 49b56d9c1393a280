"""Database connections: SQLite (embedded default, WAL) or PostgreSQL, by URL."""
from __future__ import annotations

import functools
import os
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine, ExceptionContext

from engine.dialect import POSTGRESQL, SQLITE, Dialect
from engine.errors import ReadOnlyTransactionError
from engine.formula.sql_sqlite import register_functions

DEFAULT_INSTANCE = "instance"
SQLITE_BUSY_TIMEOUT = 30.0              # seconds a SQLite writer waits for the one before it
READ_ONLY = "formwork_read_only"        # execution option set by read_connection
_QUERY_ONLY = "formwork_query_only"     # a pooled SQLite connection's PRAGMA query_only, in its info


def instance_dir() -> Path:
    """The folder for the embedded database and stored files (FORMWORK_INSTANCE)."""
    path = Path(os.environ.get("FORMWORK_INSTANCE", DEFAULT_INSTANCE))
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return normalise_url(url)
    return f"sqlite:///{(instance_dir() / 'formwork.db').resolve()}"


def normalise_url(url: str) -> str:
    """Accept the usual spellings and route PostgreSQL through psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str | None = None, **kwargs) -> Engine:
    """An engine for the URL (by default DATABASE_URL's); raises UnsupportedDatabase for
    a database other than SQLite and PostgreSQL."""
    url = normalise_url(url) if url else database_url()
    engine = _ENGINES[Dialect.of(sa.make_url(url))](url, kwargs)
    event.listen(engine, "handle_error", _refuse_writes_clearly)
    return engine


def _sqlite_engine(url: str, kwargs: dict) -> Engine:
    kwargs.setdefault("connect_args", {}).setdefault("timeout", SQLITE_BUSY_TIMEOUT)
    engine = sa.create_engine(url, **kwargs)
    event.listen(engine, "connect", _sqlite_pragmas)
    # Formulas in filters call Python for what SQLite lacks (engine/formula/sql_sqlite.py).
    event.listen(engine, "connect", register_functions)
    # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINTs;
    # take control so "BEGIN" is emitted when SQLAlchemy starts a transaction.
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _postgresql_engine(url: str, kwargs: dict) -> Engine:
    kwargs.setdefault("pool_pre_ping", True)
    # JIT compiling pays off for long analytic queries; Formwork's are short pages and
    # capped counts, where PostgreSQL's cost estimate over a correlated relation lookup
    # crosses jit_above_cost and compiling takes longer than the query (a count through a
    # relation: 4-5x with JIT, 1.0x without; bench/bench_formula_filter.py). A server or
    # URL that sets jit itself (options=-c jit=on) keeps its setting.
    # Bulk inserts with RETURNING go out as one statement per page of rows: pages of 250
    # keep those statements short enough to be cached (see _cache_long_statements).
    kwargs.setdefault("insertmanyvalues_page_size", 250)
    _cache_long_statements()
    return sa.create_engine(_without_jit(url), **kwargs)


_ENGINES = {SQLITE: _sqlite_engine, POSTGRESQL: _postgresql_engine}


@contextmanager
def read_connection(engine: Engine) -> Iterator[sa.Connection]:
    """A connection for work that only reads (listing, exporting, counting):

        with read_connection(engine) as conn:
            page = Records(conn, app).list("customers")

    On SQLite its transactions begin deferred (plain BEGIN) instead of BEGIN IMMEDIATE:
    with WAL a reader takes no lock that a writer waits for, and reads the snapshot of
    its first read until it ends, however long it stays open and whatever commits
    meanwhile. On PostgreSQL they are READ ONLY transactions (psycopg sends BEGIN READ
    ONLY: no extra statement); locking and isolation are as on any connection.

    A write through it is refused by the database before it changes anything and raised
    as ReadOnlyTransactionError, on both: a deferred SQLite transaction that upgraded to
    a write could meet another writer halfway and fail with "database is locked" after
    its reads, which is what BEGIN IMMEDIATE is there to prevent, so writes belong in
    engine.begin() or write_transaction()."""
    with engine.connect() as conn:
        yield conn.execution_options(**{READ_ONLY: True, **Dialect.of(conn).read_only_options})


class Connections:
    """Where a unit of work's transactions get their connection: a pooled one checked out
    for each transaction and given back at its end (this class: commands, jobs, tests).

        with connections.read() as conn: ...     # as read_connection(engine)
        with connections.write() as conn: ...    # as engine.begin(): committed at the end
    """

    def __init__(self, engine: Engine):
        self.engine = engine

    def read(self):
        return read_connection(self.engine)

    def write(self):
        return self.engine.begin()

    def close(self) -> None:
        """Give back what is held (nothing here)."""


class OneConnection(Connections):
    """One pooled connection lent to every transaction of a short sequence (a web request:
    who is asking, its work, the top bar), checked out at the first and given back by
    close(). Each checkout costs a round trip on PostgreSQL (the pool's ping) and each
    give-back another (its rollback), which was a third of a small API request; one
    connection per request pays them once. Each transaction is still its own (a read is
    read-only, a write commits at its end); a transaction begun while another holds the
    connection (a read inside a write) takes a connection of its own, as before."""

    def __init__(self, engine: Engine):
        super().__init__(engine)
        self._conn: sa.Connection | None = None

    def _free(self, read_only: bool) -> sa.Connection | None:
        """The lent connection set for a read or a write, or None when it is in use."""
        if self._conn is None:
            self._conn = self.engine.connect()
        elif self._conn.invalidated or self._conn.in_transaction():
            return None
        conn = self._conn
        if bool(conn.get_execution_options().get(READ_ONLY)) is not read_only:
            options = Dialect.of(conn).read_only_options
            conn.execution_options(**{READ_ONLY: read_only, **{k: (v if read_only else False)
                                                               for k, v in options.items()}})
        return conn

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        conn = self._free(read_only=True)
        if conn is None:
            with read_connection(self.engine) as own:
                yield own
            return
        with conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[sa.Connection]:
        conn = self._free(read_only=False)
        if conn is None:
            with self.engine.begin() as own:
                yield own
            return
        with conn.begin():
            yield conn

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


def _sqlite_begin(conn: sa.Connection) -> None:
    """Writers begin IMMEDIATE: they take the write lock first, so they queue for it
    (busy_timeout) instead of failing halfway when another writer holds it. Readers
    (read_connection) begin deferred and hold none; PRAGMA query_only makes a write
    among them fail at once. query_only belongs to the pooled connection, not to the
    transaction, so each BEGIN sets it as its connection needs when it differs from what
    the pooled connection last had (kept in its info): one extra PRAGMA when a pooled
    connection passes from readers to writers or back, none otherwise."""
    read_only = bool(conn.get_execution_options().get(READ_ONLY))
    pooled = conn.connection.info
    if pooled.get(_QUERY_ONLY) is not read_only:
        conn.exec_driver_sql(f"PRAGMA query_only={int(read_only)}")
        pooled[_QUERY_ONLY] = read_only
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _refuse_writes_clearly(context: ExceptionContext) -> None:
    """A write refused on a read_connection is a ReadOnlyTransactionError that says so,
    not the driver's "attempt to write a readonly database" (SQLite SQLITE_READONLY, 8)
    or "cannot execute INSERT in a read-only transaction" (PostgreSQL 25006)."""
    conn, error = context.connection, context.original_exception
    if conn is None or not conn.get_execution_options().get(READ_ONLY):
        return
    refused = getattr(error, "sqlstate", None) == "25006" \
        or getattr(error, "sqlite_errorcode", 0) & 0xFF == 8
    if refused:
        raise ReadOnlyTransactionError(context.statement or "") from context.sqlalchemy_exception


_SETS_JIT = re.compile(r"(?:^|\s)-c\s*jit\s*=")     # "-c jit=on", "-cjit=on"


def _without_jit(url: str) -> sa.URL:
    """The URL with `-c jit=off` added to its connection options (a search_path or other
    options it has are kept)."""
    parsed = sa.make_url(url)
    options = parsed.query.get("options") or ""
    options = options if isinstance(options, str) else " ".join(options)
    if _SETS_JIT.search(options):
        return parsed
    return parsed.update_query_dict({"options": f"{options} -c jit=off".strip()})


def _cache_long_statements() -> None:
    """psycopg converts a statement's placeholders each time it runs it, and keeps the
    result only for statements under 4,096 characters and 50 parameters. A bulk insert
    with RETURNING (a page of rows in one statement, the same text page after page) is
    far longer, so a 100k-row import spent a third of its CPU converting the same
    statements again. Long statements get a small cache of their own (an entry for 250
    rows of 20 columns is about 1 MB, so at most 16 are kept); short ones keep psycopg's.
    The limits live in psycopg's `_queries` module; if a release moves them, this
    changes nothing and only speed is lost."""
    try:
        from psycopg import _queries
    except ImportError:
        return
    names = ("MAX_CACHED_STATEMENT_LENGTH", "MAX_CACHED_STATEMENT_PARAMS", "_query2pg", "_query2pg_nocache")
    if not all(hasattr(_queries, name) for name in names) or getattr(_queries, "_formwork_cache", False):
        return
    short, limit = _queries._query2pg, _queries.MAX_CACHED_STATEMENT_LENGTH
    long = functools.lru_cache(maxsize=16)(_queries._query2pg_nocache)

    def convert(query, encoding):
        return short(query, encoding) if len(query) <= limit else long(query, encoding)
    _queries._query2pg = convert
    _queries.MAX_CACHED_STATEMENT_LENGTH = max(limit, 200_000)
    _queries.MAX_CACHED_STATEMENT_PARAMS = max(_queries.MAX_CACHED_STATEMENT_PARAMS, 6_000)
    _queries._formwork_cache = True


def _sqlite_pragmas(dbapi_conn, record):
    dbapi_conn.isolation_level = None  # see make_engine: SQLAlchemy issues BEGIN itself
    record.info[_QUERY_ONLY] = False   # SQLite's default; see _sqlite_begin
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT * 1000)}")
    cur.close()

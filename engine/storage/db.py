"""Database connections: SQLite (embedded default, WAL) or PostgreSQL, by URL."""
from __future__ import annotations

import functools
import os
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from engine.formula.sql_sqlite import register_functions

DEFAULT_INSTANCE = "instance"


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
    url = normalise_url(url) if url else database_url()
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {}).setdefault("timeout", 30)
        engine = sa.create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        # Formulas in filters call Python for what SQLite lacks (engine/formula/sql_sqlite.py).
        event.listen(engine, "connect", register_functions)
        # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINTs;
        # take control so "BEGIN" is emitted when SQLAlchemy starts a transaction.
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        return engine
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


def _without_jit(url: str) -> sa.URL:
    """The URL with `-c jit=off` added to its connection options (a search_path or other
    options it has are kept)."""
    parsed = sa.make_url(url)
    options = parsed.query.get("options") or ""
    options = options if isinstance(options, str) else " ".join(options)
    if "jit" in options:
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


def _sqlite_pragmas(dbapi_conn, _record):
    dbapi_conn.isolation_level = None  # see make_engine: SQLAlchemy issues BEGIN itself
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def is_sqlite(bind) -> bool:
    return bind.dialect.name == "sqlite"

"""The transaction boundary of a write: one unit of work, one transaction, run again
from the start when the database aborts it because of other writers.

    created = write_transaction(engine, lambda conn: Records(conn, app).create("payments", values))

PostgreSQL aborts a transaction that waits for row locks in a cycle with another one
(SQLSTATE 40P01, "deadlock detected") and, under REPEATABLE READ or SERIALIZABLE, one
whose reads another transaction has overtaken (40001). The database has then undone
all of it, so the unit of work runs again in a new transaction: a record created
once, a rollup added once, one history entry. The other writer has usually finished
by then; after `attempts` runs the caller gets ConcurrentWriteError, whose message
says to try again, never a stack trace.

Upkeep.lock_ahead takes the row locks of a write in one order, so writes reaching each
other's records queue up instead of deadlocking; this catches the rarer cycles it
cannot foresee. SQLite cannot deadlock: a write transaction holds the whole database
from BEGIN IMMEDIATE (engine/storage/db.py) and the next one waits for it, up to its
busy timeout (30 s); readers (read_connection) hold nothing a writer waits for. A wait
that runs out ("database is locked") is not run again (it has waited long enough) but
reported as ConcurrentWriteError too.

`work` must do nothing outside the database that cannot be done twice (send no mail,
call no webhook): such effects go to the outbox, written in the same transaction.
"""
from __future__ import annotations

import random
import sqlite3
import time
from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from engine.errors import ConcurrentWriteError

T = TypeVar("T")

RETRYABLE = {"40P01": "deadlock detected", "40001": "serialization failure"}
ATTEMPTS = 5
BACKOFF = 0.05      # seconds: the first pause is up to this long, each further one up to twice the last
SQLITE_BUSY = 5
ATOMIC_BLOCK = "formwork.atomic_block"      # conn.info key: inside atomic_block()


@contextmanager
def atomic_block(conn: sa.Connection) -> Iterator[None]:
    """A savepoint around many writes that is rolled back whenever any error leaves it
    (an automation run's actions: all or nothing). Inside it the record service skips
    the savepoint each of its write methods opens otherwise (they exist so that a caller
    catching a refused write can go on; here nothing goes on past an error but the
    rollback of the whole block): two statements fewer per write."""
    outer = conn.info.get(ATOMIC_BLOCK, False)
    savepoint = conn.begin_nested()
    conn.info[ATOMIC_BLOCK] = True
    try:
        yield
    except BaseException:
        conn.info[ATOMIC_BLOCK] = outer
        savepoint.rollback()
        raise
    conn.info[ATOMIC_BLOCK] = outer
    savepoint.commit()


def in_atomic_block(conn: sa.Connection) -> bool:
    return conn.info.get(ATOMIC_BLOCK, False)


def write_transaction(engine: Engine, work: Callable[[sa.Connection], T], *, attempts: int = ATTEMPTS,
                      sleep: Callable[[float], None] = time.sleep) -> T:
    """`work(conn)` in a transaction of its own, committed; run again in a new
    transaction (after a short random pause) when the database aborted it for a
    deadlock or a serialization failure, at most `attempts` times in all."""
    def attempt() -> T:
        with engine.begin() as conn:
            return work(conn)
    return run_again_on_contention(attempt, attempts=attempts, sleep=sleep)


def run_again_on_contention(attempt: Callable[[], T], *, attempts: int = ATTEMPTS,
                            sleep: Callable[[float], None] = time.sleep) -> T:
    """`attempt()`, a unit of work that opens and ends its own transaction, run again
    when the database aborted it for other writers (see write_transaction); an import's
    pass uses it directly, since it decides itself whether to commit."""
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, got {attempts}")
    for number in range(1, attempts + 1):
        try:
            return attempt()
        except sa.exc.DBAPIError as exc:
            if _sqlite_busy(exc):
                raise ConcurrentWriteError(number, "database is locked") from exc
            reason = retryable(exc)
            if reason is None:
                raise
            if number == attempts:
                raise ConcurrentWriteError(number, reason) from exc
        # Random pauses, so that two writers that collided do not collide again in step.
        sleep(random.uniform(0, BACKOFF * 2 ** (number - 1)))
    raise AssertionError("unreachable: the last attempt returns or raises")


def contention_reason(exc: sa.exc.DBAPIError) -> str | None:
    """Why the database gave up on a transaction because of other writers (a deadlock, a
    serialization failure, SQLite's lock wait running out), or None for other errors:
    what a unit of work that is not run again reports as ConcurrentWriteError."""
    return "database is locked" if _sqlite_busy(exc) else retryable(exc)


def retryable(exc: sa.exc.DBAPIError) -> str | None:
    """Why the database aborted the transaction, when running it again may succeed."""
    state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return RETRYABLE.get(state)


def _sqlite_busy(exc: sa.exc.DBAPIError) -> bool:
    code = getattr(exc.orig, "sqlite_errorcode", None)
    if not isinstance(exc.orig, sqlite3.OperationalError):
        return False
    return (code & 0xFF == SQLITE_BUSY) if code is not None else "database is locked" in str(exc.orig)

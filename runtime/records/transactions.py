"""The transaction boundary of a write: one unit of work, one transaction, run again
from the start when the database aborts it because of other writers.

    created = write_transaction(engine, lambda conn: Records(conn, app).create("payments", values))

PostgreSQL aborts a transaction that waits for row locks in a cycle with another one
(SQLSTATE 40P01, "deadlock detected") and, under REPEATABLE READ or SERIALIZABLE, one
whose reads another transaction has overtaken (40001). The database has then undone
all of it, so the unit of work runs again in a new transaction: a record created
once, a rollup added once, one history entry. The first attempt almost always wins
on the second try, the other writer having finished; after `attempts` tries the
caller gets ConcurrentWriteError, which says to try again, never a stack trace.

Upkeep.lock_ahead takes the row locks of a write in one order, so writes reaching each
other's records queue up instead of deadlocking; this catches the rarer cycles it
cannot foresee. SQLite never gets here: a writer holds the whole database from
BEGIN IMMEDIATE (engine/storage/db.py) and the next one waits for it.

`work` must do nothing outside the database that cannot be done twice (send no mail,
call no webhook): such effects go to the outbox, written in the same transaction.
"""
from __future__ import annotations

import random
import time
from typing import Callable, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from engine.errors import ConcurrentWriteError

T = TypeVar("T")

RETRYABLE = {"40P01": "deadlock detected", "40001": "serialization failure"}
ATTEMPTS = 5
BACKOFF = 0.05      # seconds: the first retry waits up to this, each further one twice as long


def write_transaction(engine: Engine, work: Callable[[sa.Connection], T], *, attempts: int = ATTEMPTS,
                      sleep: Callable[[float], None] = time.sleep) -> T:
    """`work(conn)` in a transaction of its own, committed; run again in a new
    transaction (after a short random pause) when the database aborted it for a
    deadlock or a serialization failure, at most `attempts` times in all."""
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, got {attempts}")
    for attempt in range(1, attempts + 1):
        try:
            with engine.begin() as conn:
                return work(conn)
        except sa.exc.DBAPIError as exc:
            if retryable(exc) is None:
                raise
            if attempt == attempts:
                raise ConcurrentWriteError(attempts) from exc
        # Random pauses, so that two writers that collided do not collide again in step.
        sleep(random.uniform(0, BACKOFF * 2 ** (attempt - 1)))
    raise AssertionError("unreachable: the last attempt returns or raises")


def retryable(exc: sa.exc.DBAPIError) -> str | None:
    """What went wrong when running the transaction again may succeed, else None."""
    state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return RETRYABLE.get(state)

"""Atomic counters for serial numbers: one row per (app, form, field, period).

`allocate` reserves `count` consecutive numbers with a single upsert in the
caller's transaction. The row lock it takes serialises concurrent allocations,
so no number is ever handed out twice, on SQLite or PostgreSQL; a transaction
that rolls back gives its numbers back, so there are no gaps either.
`advance` moves counters past numbers that were not allocated here (imports).
"""
from __future__ import annotations

import sqlalchemy as sa

from engine.dialect import Dialect
from engine.storage.system import serial_counters


def _insert(conn: sa.Connection):
    return Dialect.of(conn).insert(serial_counters)


def allocate(conn: sa.Connection, app_key: str, form_key: str, field_key: str, period: str,
             count: int = 1) -> range:
    """The numbers allocated: range(first, first + count)."""
    if count < 1:
        raise ValueError("count must be at least 1")
    statement = _insert(conn).values(
        app_key=app_key, form_key=form_key, field_key=field_key, period=period, value=count)
    statement = statement.on_conflict_do_update(
        index_elements=["app_key", "form_key", "field_key", "period"],
        set_={"value": serial_counters.c.value + count},
    ).returning(serial_counters.c.value)
    last = conn.execute(statement).scalar_one()
    return range(last - count + 1, last + 1)


def advance(conn: sa.Connection, app_key: str, form_key: str, field_key: str,
            at_least: dict[str, int]) -> None:
    """Make each period's counter at least the given number, in one statement."""
    statement = _insert(conn).values([
        {"app_key": app_key, "form_key": form_key, "field_key": field_key, "period": period, "value": number}
        for period, number in at_least.items()])
    current, wanted = serial_counters.c.value, statement.excluded.value
    conn.execute(statement.on_conflict_do_update(
        index_elements=["app_key", "form_key", "field_key", "period"],
        set_={"value": sa.case((wanted > current, wanted), else_=current)}))

"""The two SQL dialects the formula back end writes: literals, and the number, text
and date operations of each (sql_numbers.py, sql_text.py, sql_dates.py), chosen by the
database's Dialect (engine/dialect.py)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from engine.dialect import POSTGRESQL, SQLITE, Dialect
from engine.formula.sql_dates import PostgresDates, SqliteDates
from engine.formula.sql_numbers import PostgresNumbers, SqliteNumbers
from engine.formula.sql_text import PostgresText, SqliteText

# The number, text and date operations written for each database.
_OPERATIONS = {
    POSTGRESQL: (PostgresNumbers, PostgresText, PostgresDates),
    SQLITE: (SqliteNumbers, SqliteText, SqliteDates),
}


class Literals:
    """Typed bound parameters (a value a user typed never becomes SQL text).

    On PostgreSQL each is also cast to its type, so that a statement compiled with its
    values written in (as Records.count does for the planner's estimate) keeps its
    types: a bare 10 would be an integer and power(10, n) a float."""

    def __init__(self, database: Dialect):
        self.database = database

    def _typed(self, value: Any, type_: sa.types.TypeEngine) -> Any:
        literal = sa.literal(value, type_)
        return sa.cast(literal, type_) if self.database.typed_literals else literal

    def numeric(self, value: Decimal) -> Any:
        return self._typed(value, sa.Numeric())

    def integer(self, value: int) -> Any:
        return self._typed(value, sa.BigInteger())

    def real(self, value: float) -> Any:
        return self._typed(value, sa.Float())

    def text(self, value: str) -> Any:
        return self._typed(value, sa.Text())

    def date(self, value: date) -> Any:
        if self.database.dates_as_text:
            return self.text(value.isoformat())
        return self._typed(value, sa.Date())

    def boolean(self, value: bool) -> Any:
        return sa.true() if value else sa.false()


class SqlDialect:
    """What the translator asks of a database: `numbers`, `texts`, `dates`, `lit`."""

    def __init__(self, database: Dialect, tz_name: str):
        self.database = database
        self.lit = Literals(database)
        numbers, texts, dates = _OPERATIONS[database]
        self.numbers, self.texts, self.dates = numbers(self.lit), texts(self.lit), dates(self.lit, tz_name)

    @property
    def computes_in_python(self) -> bool:
        """Whether rows SQL cannot compute exactly may call Python (SQLite's own
        functions); PostgreSQL computes everything it is given exactly."""
        return self.database.python_functions

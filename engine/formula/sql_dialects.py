"""The two SQL dialects the formula back end writes: literals, and the number, text
and date operations of each (sql_numbers.py, sql_text.py, sql_dates.py)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from engine.formula.sql_dates import PostgresDates, SqliteDates
from engine.formula.sql_numbers import PostgresNumbers, SqliteNumbers
from engine.formula.sql_text import PostgresText, SqliteText

DIALECTS = ("postgresql", "sqlite")


class Literals:
    """Typed bound parameters (a value a user typed never becomes SQL text).

    On PostgreSQL each is also cast to its type, so that a statement compiled with its
    values written in (as Records.count does for the planner's estimate) keeps its
    types: a bare 10 would be an integer and power(10, n) a float."""

    def __init__(self, dialect: str):
        self.dialect = dialect

    def _typed(self, value: Any, type_: sa.types.TypeEngine) -> Any:
        literal = sa.literal(value, type_)
        return literal if self.dialect == "sqlite" else sa.cast(literal, type_)

    def numeric(self, value: Decimal) -> Any:
        return self._typed(value, sa.Numeric())

    def integer(self, value: int) -> Any:
        return self._typed(value, sa.BigInteger())

    def real(self, value: float) -> Any:
        return self._typed(value, sa.Float())

    def text(self, value: str) -> Any:
        return self._typed(value, sa.Text())

    def date(self, value: date) -> Any:
        if self.dialect == "sqlite":
            return self.text(value.isoformat())
        return self._typed(value, sa.Date())

    def boolean(self, value: bool) -> Any:
        return sa.true() if value else sa.false()


class Dialect:
    """What the translator asks of a database: `numbers`, `texts`, `dates`, `lit`."""

    def __init__(self, name: str, tz_name: str):
        if name not in DIALECTS:
            raise ValueError(f"no SQL translation of formulas for {name!r}; use one of {DIALECTS}")
        self.name = name
        self.lit = Literals(name)
        if name == "sqlite":
            self.numbers, self.texts = SqliteNumbers(self.lit), SqliteText(self.lit)
            self.dates = SqliteDates(self.lit, tz_name)
        else:
            self.numbers, self.texts = PostgresNumbers(self.lit), PostgresText(self.lit)
            self.dates = PostgresDates(self.lit, tz_name)

    @property
    def computes_in_python(self) -> bool:
        """Whether rows SQL cannot compute exactly may call Python (SQLite's own
        functions); PostgreSQL computes everything it is given exactly."""
        return self.name == "sqlite"

"""Dates of formulas in SQL: days, Excel serial numbers and wall-clock times.

A date is a calendar day (PostgreSQL DATE; SQLite 'YYYY-MM-DD' text, as SQLAlchemy
stores it). A datetime is an instant (timestamptz; SQLite: UTC text
'YYYY-MM-DD HH:MM:SS.ffffff'), which formulas see in the workspace time zone: its
day, its year, and its order against dates are those of its wall-clock time there
(PostgreSQL: AT TIME ZONE; SQLite: a Python function, sql_sqlite.py, since SQLite
knows no time zones). Dates compare with numbers through their Excel serial numbers
(days since 1899-12-30), as the formula language compares them.

Every operation here is given SQL integers and dates and gives SQL back; the
translator (sql.py) checks ranges and errors around them.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import sqlalchemy as sa

from engine.formula.sql_values import joined

EXCEL_EPOCH = date(1899, 12, 30)
FIRST_SERIAL = (date(1, 1, 1) - EXCEL_EPOCH).days       # 0001-01-01
LAST_SERIAL = (date(9999, 12, 31) - EXCEL_EPOCH).days    # 9999-12-31
_EPOCH_JULIAN_DAY = 2415018.5                           # SQLite julianday('1899-12-30')


class PostgresDates:
    def __init__(self, literals, tz_name: str):
        self.lit = literals
        self.tz = tz_name

    def column_date(self, expr: Any) -> Any:
        return sa.cast(expr, sa.Date())

    def column_datetime(self, expr: Any) -> Any:
        return expr

    def const_date(self, day: date) -> Any:
        return self.lit.date(day)

    def const_datetime(self, moment: datetime) -> Any:
        return sa.cast(sa.literal(moment.astimezone(timezone.utc), sa.DateTime(timezone=True)),
                       sa.DateTime(timezone=True))

    def serial(self, day: Any) -> Any:
        return day - self.lit.date(EXCEL_EPOCH)

    def from_serial(self, days: Any) -> Any:
        return self.lit.date(EXCEL_EPOCH) + sa.cast(days, sa.Integer)

    def first_of_month_serial(self, year: Any, month: Any) -> Any:
        first = sa.func.make_date(sa.cast(year, sa.Integer), sa.cast(month, sa.Integer), 1)
        return first - self.lit.date(EXCEL_EPOCH)

    def part(self, name: str, day: Any) -> Any:
        return sa.cast(sa.extract(name, day), sa.Integer)

    def local_date(self, moment: Any) -> Any:
        return sa.cast(self.wall(moment), sa.Date())

    def wall(self, moment: Any) -> Any:
        return sa.func.timezone(self.lit.text(self.tz), moment)

    def date_wall(self, day: Any) -> Any:
        return sa.cast(day, sa.DateTime())

    def date_text(self, day: Any) -> Any:
        return sa.func.to_char(day, self.lit.text("YYYY-MM-DD"))

    def datetime_text(self, moment: Any) -> Any:
        return sa.func.to_char(self.wall(moment), self.lit.text("YYYY-MM-DD HH24:MI:SS"))


class SqliteDates:
    def __init__(self, literals, tz_name: str):
        self.lit = literals
        self.tz = tz_name

    def column_date(self, expr: Any) -> Any:
        return sa.type_coerce(expr, sa.Text())

    def column_datetime(self, expr: Any) -> Any:
        return sa.type_coerce(expr, sa.Text())

    def const_date(self, day: date) -> Any:
        return self.lit.text(day.isoformat())

    def const_datetime(self, moment: datetime) -> Any:
        utc = moment.astimezone(timezone.utc).replace(tzinfo=None)
        return self.lit.text(utc.isoformat(sep=" ", timespec="microseconds"))

    def serial(self, day: Any) -> Any:
        return sa.cast(sa.func.julianday(day) - _EPOCH_JULIAN_DAY, sa.Integer)

    def from_serial(self, days: Any) -> Any:
        return sa.func.date(days + _EPOCH_JULIAN_DAY)

    def first_of_month_serial(self, year: Any, month: Any) -> Any:
        first = sa.func.printf(self.lit.text("%04d-%02d-01"), year, month)
        return sa.cast(sa.func.julianday(first) - _EPOCH_JULIAN_DAY, sa.Integer)

    def part(self, name: str, day: Any) -> Any:
        start, size = {"year": (1, 4), "month": (6, 2), "day": (9, 2)}[name]
        return sa.cast(sa.func.substr(day, start, size), sa.Integer)

    def local_date(self, moment: Any) -> Any:
        return sa.func.substr(self.wall(moment), 1, 10)

    def wall(self, moment: Any) -> Any:
        return sa.func.fw_local_time(moment, self.lit.text(self.tz))

    def date_wall(self, day: Any) -> Any:
        return joined(day, self.lit.text(" 00:00:00.000000"))

    def date_text(self, day: Any) -> Any:
        return day

    def datetime_text(self, moment: Any) -> Any:
        return sa.func.substr(self.wall(moment), 1, 19)

"""A formula's value converted to the type a field stores, the way a spreadsheet
cell formatted as that type would take it.

    number    numbers; TRUE/FALSE as 1/0; text that reads as a number ("12.5")
    text      anything, as the formula language writes it as text (2.50 -> "2.5")
    date      dates; the day of a date-time; date text
    datetime  date-times; a date at its midnight; date text
    boolean   TRUE/FALSE; numbers (0 is FALSE); "TRUE"/"FALSE" text

An empty value or empty text stays empty. What cannot be converted (an array, the
text "abc" for a number) becomes #VALUE!; errors stay errors.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Callable
from zoneinfo import ZoneInfo

from engine.formula.values import VALUE, ErrorValue, to_bool, to_date, to_datetime, to_number, to_text


def _number(value: Any, tz: ZoneInfo) -> Any:
    if isinstance(value, date):
        return VALUE      # a date is not a number here (as in the formula language)
    return to_number(value)


_CONVERT: dict[str, Callable[[Any, ZoneInfo], Any]] = {
    "number": _number,
    "text": lambda value, tz: to_text(value.astimezone(tz) if isinstance(value, datetime) else value),
    "date": lambda value, tz: to_date(value.astimezone(tz) if isinstance(value, datetime) else value, tz),
    "datetime": lambda value, tz: to_datetime(value, tz),
    "boolean": lambda value, tz: to_bool(value),
}


def to_result_type(value: Any, result: str, tz: ZoneInfo) -> Any:
    """`value` as a value of type `result` (see the module's docstring)."""
    if value is None or value == "" or type(value) is ErrorValue:
        return None if value == "" else value
    if isinstance(value, (list, tuple)):
        return VALUE
    return _CONVERT[result](value, tz)

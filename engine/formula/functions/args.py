"""Reading function arguments: the coercions every family shares.

Aggregates (SUM, AVERAGE, MAX...) read numbers as Excel reads them from ranges and
typed-in values alike, with one deliberate simplification (fields are like cell
references, and a blank text field must not break a sum):

- inside an array only numbers and dates count; text, booleans and empties are skipped;
- a single argument counts when it is a number, a date, a boolean (1/0) or text that
  reads as a plain number ("3"); other text and empty single arguments are skipped
  (Excel would give #VALUE! for SUM("abc") typed in, and skip it from a cell);
- an error anywhere (arrays included) is the result;
- dates count as their serial numbers, and MIN, MAX, LARGE, SMALL, MEDIAN and AVERAGE
  give a date back when every value they saw was a date.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Iterable

from engine.formula.values import (
    ONE, VALUE, ZERO, EvalContext, ErrorValue, date_to_serial, flatten, parse_number_text,
    serial_to_date, to_bool, to_date, to_datetime, to_int, to_number, to_text,
)


def number_arg(value: Any) -> Decimal | ErrorValue:
    return VALUE if type(value) is list else to_number(value)


def int_arg(value: Any) -> int | ErrorValue:
    """A count or a position: truncated toward zero (Excel: LEFT(x, 2.9) is LEFT(x, 2))."""
    return VALUE if type(value) is list else to_int(value)


def text_arg(value: Any) -> str | ErrorValue:
    return VALUE if type(value) is list else to_text(value)


def bool_arg(value: Any) -> bool | ErrorValue:
    return VALUE if type(value) is list else to_bool(value)


def date_arg(ctx: EvalContext, value: Any) -> date | None | ErrorValue:
    """A date argument: dates, datetimes (their day), date text, serial numbers; empty is None."""
    return VALUE if type(value) is list else to_date(value, ctx.tz)


def datetime_arg(ctx: EvalContext, value: Any) -> datetime | None | ErrorValue:
    return VALUE if type(value) is list else to_datetime(value, ctx.tz)


def first_failure(*values: Any) -> ErrorValue | None:
    """The first error among already-coerced arguments."""
    for value in values:
        if type(value) is ErrorValue:
            return value
    return None


# ---- aggregates ------------------------------------------------------------------------

class Numbers(list):
    """The numbers an aggregate read, and the temporal kind they all had, if any."""

    kind: str | None = None   # "date" or "datetime" when every value was one


def numbers(ctx: EvalContext, args: Iterable[Any]) -> Numbers | ErrorValue:
    """The numbers of aggregate arguments (see the module docstring for the rules)."""
    found = Numbers()
    kinds: set[type] = set()
    for arg in args:
        if type(arg) is list:
            for item in flatten(arg):
                value = _array_number(item, kinds)
                if type(value) is ErrorValue:
                    return value
                if value is not None:
                    found.append(value)
        else:
            value = _single_number(arg, kinds)
            if type(value) is ErrorValue:
                return value
            if value is not None:
                found.append(value)
    ctx.tick(len(found))
    if found and len(kinds) == 1 and kinds <= {date, datetime}:
        found.kind = "datetime" if datetime in kinds else "date"
    else:
        found.kind = None
    return found


def _array_number(item: Any, kinds: set) -> Decimal | ErrorValue | None:
    kind = type(item)
    if kind is Decimal:
        kinds.add(Decimal)
        return item
    if kind is ErrorValue:
        return item
    if kind is date or kind is datetime:
        kinds.add(kind)
        return date_to_serial(item)
    if kind is int or kind is float:
        kinds.add(Decimal)
        return to_number(item)
    return None


def _single_number(arg: Any, kinds: set) -> Decimal | ErrorValue | None:
    kind = type(arg)
    if kind is bool:
        kinds.add(Decimal)
        return ONE if arg else ZERO
    if kind is str:
        value = parse_number_text(arg)
        if value is not None:
            kinds.add(Decimal)
        return value
    return _array_number(arg, kinds)


def as_kind(ctx: EvalContext, value: Decimal, kind: str | None) -> Any:
    """An aggregate's result back as a date or datetime when its inputs all were."""
    if kind == "date":
        return serial_to_date(value)
    if kind == "datetime":
        return to_datetime(value, ctx.tz)
    return value


def values_of(ctx: EvalContext, args: Iterable[Any]) -> list:
    """Every value of the arguments, arrays opened (for COUNTA, TEXTJOIN, UNIQUE...)."""
    found = list(flatten(args))
    ctx.tick(len(found))
    return found


def array_arg(ctx: EvalContext, value: Any) -> list:
    """An argument read as an array (a single value is an array of one), nesting flattened."""
    if type(value) is list:
        items = list(flatten(value)) if any(type(item) is list for item in value) else value
    else:
        items = [value]
    ctx.tick(len(items))
    return items


def logicals(args: Iterable[Any]) -> list[bool] | ErrorValue:
    """The truth values of AND/OR/XOR arguments (Excel): arrays give their booleans and
    numbers, skipping text and empties; a single text must read TRUE/FALSE."""
    found: list[bool] = []
    for arg in args:
        if type(arg) is list:
            for item in flatten(arg):
                kind = type(item)
                if kind is ErrorValue:
                    return item
                if kind is bool or kind is Decimal:
                    found.append(bool(item))
        elif arg is not None:
            value = to_bool(arg)
            if type(value) is ErrorValue:
                return value
            found.append(value)
    return found


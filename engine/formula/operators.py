"""The operators of the formula language, with Excel's semantics, on exact Decimals.

Each operator takes values and returns a value; it never raises. Errors propagate
(the leftmost error value wins, before any conversion error: "x" + #N/A is #N/A), empty is 0 in arithmetic and "" in text, text that reads
as a plain number takes part in arithmetic ("3" + 1 = 4), TRUE is 1.

Dates stay dates: date ± days = date, date − date = days, datetime ± days = datetime
(fractions of a day are hours), datetime − datetime = days with a fraction. Other
arithmetic on dates (date × 2, date + date) is #VALUE!; Excel would compute with the
serial numbers behind its dates, which gives nonsense a business user never wants.

Comparisons follow Excel's order across types (numbers and dates < text < booleans;
empty is 0, "" or FALSE, whichever the other side is); text compares without regard
to case, so "abc" = "ABC".
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal, DecimalException, DivisionByZero, ROUND_FLOOR
from typing import Any

from engine.formula.values import (
    DEFAULT_LIMITS, DIV0, FORMULA_CONTEXT, NUM, VALUE, ZERO, ErrorValue, date_to_serial,
    to_number, to_text,
)

_C = FORMULA_CONTEXT
_MICROS_PER_DAY = Decimal(86_400_000_000)
_MAX_DAYS = 3_000_000   # about 8,000 years: a date moved further is out of range (#NUM!)


# ---- arithmetic ------------------------------------------------------------------------

def _numbers(left: Any, right: Any) -> tuple[Decimal, Decimal] | ErrorValue:
    """Both operands as numbers, or the leftmost error (or #VALUE!)."""
    if type(left) is ErrorValue:
        return left
    if type(right) is ErrorValue:
        return right
    a = to_number(left)
    if type(a) is ErrorValue:
        return a
    b = to_number(right)
    if type(b) is ErrorValue:
        return b
    return a, b


def _is_temporal(value: Any) -> bool:
    return type(value) is date or type(value) is datetime


def _arith(op, left: Any, right: Any) -> Any:
    pair = _numbers(left, right)
    if type(pair) is ErrorValue:
        return pair
    try:
        return op(*pair)
    except DivisionByZero:
        return DIV0
    except DecimalException:   # overflow past 1E+308, invalid operation
        return NUM


def _shift(moment: date | datetime, days: Decimal) -> date | datetime | ErrorValue:
    """A date or datetime moved by a number of days (a date drops the fraction)."""
    try:
        if abs(days) > _MAX_DAYS:
            return NUM
        if type(moment) is date:
            return moment + timedelta(days=int(days.to_integral_value(rounding=ROUND_FLOOR)))
        micros = int(_C.multiply(days, _MICROS_PER_DAY).to_integral_value())
        return moment + timedelta(microseconds=micros)
    except (OverflowError, ValueError):
        return NUM


def _between(later: date | datetime, earlier: date | datetime) -> Decimal:
    """Days from `earlier` to `later`; with a datetime on either side, with the fraction."""
    if type(later) is date and type(earlier) is date:
        return Decimal((later - earlier).days)
    return _C.subtract(date_to_serial(later), date_to_serial(earlier))


def add(left: Any, right: Any) -> Any:
    if _is_temporal(left) or _is_temporal(right):
        return _add_temporal(left, right)
    return _arith(_C.add, left, right)


def _add_temporal(left: Any, right: Any) -> Any:
    if type(left) is ErrorValue:
        return left
    if type(right) is ErrorValue:
        return right
    if _is_temporal(left) and _is_temporal(right):
        return VALUE
    moment, days = (left, right) if _is_temporal(left) else (right, left)
    days = to_number(days)
    if type(days) is ErrorValue:
        return days
    return _shift(moment, days)


def sub(left: Any, right: Any) -> Any:
    if _is_temporal(left):
        if type(right) is ErrorValue:
            return right
        if _is_temporal(right):
            return _between(left, right)
        days = to_number(right)
        if type(days) is ErrorValue:
            return days
        return _shift(left, _C.minus(days))
    if _is_temporal(right):
        return left if type(left) is ErrorValue else VALUE
    return _arith(_C.subtract, left, right)


def mul(left: Any, right: Any) -> Any:
    return _arith(_C.multiply, left, right)


def _divide(a: Decimal, b: Decimal) -> Decimal | ErrorValue:
    return DIV0 if not b else _C.divide(a, b)   # 0/0 too is #DIV/0!, as in Excel


def div(left: Any, right: Any) -> Any:
    return _arith(_divide, left, right)


def power(left: Any, right: Any) -> Any:
    """x^y (Excel): 0^0 and 0^negative are #NUM! and #DIV/0!, a negative base needs an
    integral exponent, and results beyond 1E+308 or exponents beyond the limit are #NUM!."""
    pair = _numbers(left, right)
    if type(pair) is ErrorValue:
        return pair
    base, exponent = pair
    if abs(exponent) > DEFAULT_LIMITS.max_power_exponent:
        return NUM
    if not base:
        if not exponent:
            return NUM
        return DIV0 if exponent < 0 else ZERO
    try:
        if exponent == exponent.to_integral_value():
            return _C.power(base, exponent.to_integral_value())
        if base < 0:
            return NUM
        return _C.power(base, exponent)
    except DivisionByZero:
        return DIV0
    except DecimalException:
        return NUM


def neg(value: Any) -> Any:
    if type(value) is ErrorValue:
        return value
    num = to_number(value)
    if type(num) is ErrorValue:
        return num
    return _C.minus(num)


def pos(value: Any) -> Any:
    """+x changes nothing, as in Excel (+"abc" is still "abc")."""
    return value


def percent(value: Any) -> Any:
    """x% = x / 100."""
    if type(value) is ErrorValue:
        return value
    num = to_number(value)
    if type(num) is ErrorValue:
        return num
    return _C.divide(num, Decimal(100))


# ---- text ------------------------------------------------------------------------------

def concat(left: Any, right: Any) -> Any:
    """a & b: both as text (2.50 -> "2.5", TRUE -> "TRUE", dates as 2025-01-15)."""
    a = to_text(left)
    if type(a) is ErrorValue:
        return a
    b = to_text(right)
    if type(b) is ErrorValue:
        return b
    if len(a) + len(b) > DEFAULT_LIMITS.max_text_length:
        return VALUE
    return a + b


# ---- comparison ------------------------------------------------------------------------

_NUMBER_RANK, _TEXT_RANK, _BOOL_RANK = 0, 1, 2


def _ranked(value: Any) -> tuple[int, Any] | ErrorValue | None:
    """(rank, key) for ordering across types, None for empty, or #VALUE! for an array."""
    kind = type(value)
    if value is None:
        return None
    if kind is bool:
        return _BOOL_RANK, value
    if kind is Decimal or kind is int or kind is float:
        return _NUMBER_RANK, to_number(value)
    if kind is str:
        return _TEXT_RANK, value.casefold()
    if kind is date or kind is datetime:
        return _NUMBER_RANK, date_to_serial(value)
    return VALUE


_EMPTY_AS = {_NUMBER_RANK: ZERO, _TEXT_RANK: "", _BOOL_RANK: False}


def compare(left: Any, right: Any) -> int | ErrorValue:
    """-1, 0 or 1 in Excel's order, or the leftmost error."""
    if type(left) is ErrorValue:
        return left
    if type(right) is ErrorValue:
        return right
    a, b = _ranked(left), _ranked(right)
    if type(a) is ErrorValue:
        return a
    if type(b) is ErrorValue:
        return b
    if a is None and b is None:
        return 0
    if a is None:
        a = (b[0], _EMPTY_AS[b[0]])
    elif b is None:
        b = (a[0], _EMPTY_AS[a[0]])
    if a[0] != b[0]:
        return -1 if a[0] < b[0] else 1
    if a[1] == b[1]:
        return 0
    return -1 if a[1] < b[1] else 1


def _comparison(test):
    def operator(left: Any, right: Any) -> Any:
        order = compare(left, right)
        if type(order) is ErrorValue:
            return order
        return test(order)
    return operator


eq = _comparison(lambda order: order == 0)
ne = _comparison(lambda order: order != 0)
lt = _comparison(lambda order: order < 0)
le = _comparison(lambda order: order <= 0)
gt = _comparison(lambda order: order > 0)
ge = _comparison(lambda order: order >= 0)
eq.__name__, ne.__name__, lt.__name__, le.__name__, gt.__name__, ge.__name__ = (
    "eq", "ne", "lt", "le", "gt", "ge")

# Operator symbols of the language and their functions, for the evaluators.
BINARY = {
    "+": add, "-": sub, "*": mul, "/": div, "^": power, "&": concat,
    "=": eq, "==": eq, "<>": ne, "!=": ne, "<": lt, "<=": le, ">": gt, ">=": ge,
}
UNARY = {"-": neg, "+": pos}
POSTFIX = {"%": percent}

__all__ = ["add", "sub", "mul", "div", "power", "neg", "pos", "percent", "concat", "compare",
           "eq", "ne", "lt", "le", "gt", "ge", "BINARY", "UNARY", "POSTFIX"]

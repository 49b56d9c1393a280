"""The operators of the formula language in SQL, as operators.py defines them:
arithmetic with blanks as 0, date arithmetic, `&` with blanks as "", and comparisons
in Excel's order across types with text compared without regard to case.

A blank is what the other side makes of it: 0 beside a number, "" beside a text,
FALSE beside a boolean, day 0 (1899-12-30) beside a date; so an empty amount = 0 and
an empty name = "" are both TRUE. Values of different types compare by type:
numbers and dates < texts < booleans, whatever the values.

A date plus days is a date; a blank date plus days is the number of days (as in the
reference, where an empty field is no date). When the date may be blank the result is
therefore carried as its Excel serial number, which compares exactly as the date does
(`maybe_date`); writing it as text or computing further with it is refused, with a
hint to use DATEDELTA, which keeps a blank blank.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable

import sqlalchemy as sa

from engine.formula.nodes import Binary, Node, Unary
from engine.formula.sql_dates import FIRST_SERIAL, LAST_SERIAL
from engine.formula.sql_numbers import MAX_POWER
from engine.formula.sql_values import MAX_TEXT, SqlValue, error_when, first_error, joined, pick
from engine.formula.values import EXCEL_EPOCH, ErrorValue, to_number

TEMPORAL = ("date", "datetime")
MAX_DAYS = 3_000_000          # operators._MAX_DAYS: a date moved further is #NUM!
_OPPOSITE = {"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def unary(t, node: Unary) -> SqlValue:
    operand = t.visit(node.operand)
    word = "negates" if node.op == "-" else "takes a percentage of"
    number, conversion = t.as_number(operand, node, word)
    result = t.numbers.neg(number) if node.op == "-" else t.numbers.percent(number)
    return result.but(error=first_error(operand, conversion))


def binary(t, node: Binary) -> SqlValue:
    a, b = t.visit(node.left), t.visit(node.right)
    if node.op in ("+", "-"):
        return _add_or_subtract(t, node, a, b)
    if node.op == "&":
        return _join(t, node, a, b)
    if node.op in _OPPOSITE:
        return compare(t, node, node.op, a, b)
    if node.op == "*":
        return _arithmetic(t, node, a, b, "multiplies", t.numbers.mul)
    if node.op == "/":
        return _arithmetic(t, node, a, b, "divides", lambda x, y: _divide(t, x, y))
    return _power(t, node, a, b)


# ---- arithmetic ------------------------------------------------------------------------------

def _arithmetic(t, node: Node, a: SqlValue, b: SqlValue, word: str,
                operate: Callable[[SqlValue, SqlValue], SqlValue]) -> SqlValue:
    x, x_error = t.as_number(a, node, word)
    y, y_error = t.as_number(b, node, word)
    result = operate(x, y)
    return result.but(error=first_error(a, b, x_error, y_error, result.error))


def _divide(t, x: SqlValue, y: SqlValue) -> SqlValue:
    t.need_exact(y)          # whether it is 0 decides the error
    return t.numbers.div(x, y)


def _power(t, node: Binary, a: SqlValue, b: SqlValue) -> SqlValue:
    exponent = to_number(b.constant) if b.is_constant else None
    if exponent is None or type(exponent) is ErrorValue or exponent != exponent.to_integral_value() \
            or not 0 <= exponent <= MAX_POWER:
        if b.is_constant and type(exponent) is ErrorValue:
            x, x_error = t.as_number(a, node, "raises")
            return t.numbers.zero().but(error=first_error(a, b, x_error, t.lit.text(exponent.code)))
        raise t.refuse(node, f"raises to a power other than a whole number from 0 to {MAX_POWER}, "
                             "which runs only outside the database")
    x, x_error = t.as_number(a, node, "raises")
    if exponent == 0:
        t.need_exact(x)      # 0^0 is #NUM!
    result = t.numbers.power(x, int(exponent))
    return result.but(error=first_error(a, b, x_error, result.error))


def _add_or_subtract(t, node: Binary, a: SqlValue, b: SqlValue) -> SqlValue:
    subtract = node.op == "-"
    if a.kind not in TEMPORAL and b.kind not in TEMPORAL:
        return _arithmetic(t, node, a, b, "adds to" if not subtract else "subtracts from",
                           lambda x, y: t.numbers.add(x, y, subtract))
    if "datetime" in (a.kind, b.kind):
        raise t.refuse(node, "computes with a date and time, which runs only outside the "
                             "database; compare dates and times, or use their day: DAYS(end, start)")
    if a.kind in TEMPORAL and b.kind in TEMPORAL:
        return _two_dates(t, a, b, subtract)
    if a.kind in TEMPORAL:
        return _shift(t, node, a, b, a, b, -1 if subtract else 1)
    if not subtract:
        return _shift(t, node, b, a, a, b, 1)
    # a number minus a date is #VALUE!; minus a blank date it is the number
    x, x_error = t.as_number(a, node, "subtracts from")
    error = first_error(a, b, x_error, error_when(b.value.is_not(None), t.lit.text("#VALUE!"))
                        if b.nullable else t.lit.text("#VALUE!"))
    return x.but(error=error)


def _two_dates(t, a: SqlValue, b: SqlValue, subtract: bool) -> SqlValue:
    """date - date is days; date + date is #VALUE!; a blank date is no date at all, so
    date - blank is the date itself and blank + date the date (serial numbers)."""
    x, y = t.serial_of(a).but(error=None), t.serial_of(b).but(error=None)
    if subtract:
        result = t.numbers.add(x, y, subtract=True)
        bad = sa.and_(_blank(a), _present(b))
    else:
        result = t.numbers.add(x, y)
        bad = sa.and_(_present(a), _present(b))
    return result.but(error=first_error(a, b, error_when(bad, t.lit.text("#VALUE!"))),
                      maybe_date=b.nullable if subtract else (a.nullable or b.nullable))


def _shift(t, node: Node, moment: SqlValue, days: SqlValue, left: SqlValue, right: SqlValue,
           sign: int) -> SqlValue:
    """date ± days as the operators give it: a blank date is no date, so the result is
    then the number of days itself (carried as serial numbers, see the module)."""
    if days.kind in TEMPORAL:     # handled by _two_dates
        raise AssertionError("two dates")
    count, conversion = t.as_number(days, node, "moves a date by")
    moved = move_date(t, moment, count, sign)
    error = first_error(left, right, conversion, moved.error)
    if not moment.nullable:
        return moved.but(error=error)
    plain = count.but(value=t.numbers.value_or_zero(count), nullable=False) if sign > 0 \
        else t.numbers.neg(count)
    target = t.serial_of(moved.but(error=None))
    chosen = t.choose([(_blank(moment), plain)], target, node)
    return chosen.but(error=error, maybe_date=True, nullable=False)


def move_date(t, moment: SqlValue, count: SqlValue, sign: int) -> SqlValue:
    """A date (kind date) moved by a number of days (operators._shift): by the whole
    days below the number; #NUM! past 3,000,000 days or outside years 1-9999. A blank
    date stays blank. The error is the move's own."""
    t.need_exact(count)
    signed = count if sign > 0 else t.numbers.neg(count)    # date - 0.5 is date + (-0.5)
    whole = t.numbers.round(signed, 0, "floor")
    serial = t.serial_of(moment).but(error=None)
    target = t.numbers.add(serial, whole)
    limit = t.numbers.const(Decimal(MAX_DAYS))
    bad = sa.or_(t.numbers.compare(">", t.numbers.abs(count), limit),
                 t.numbers.compare("<", target, t.numbers.const(Decimal(FIRST_SERIAL))),
                 t.numbers.compare(">", target, t.numbers.const(Decimal(LAST_SERIAL))))
    days, _ = t.numbers.to_int(target)
    value = t.dates.from_serial(pick(bad, t.lit.integer(0), days))
    if moment.nullable:
        bad = sa.and_(_present(moment), bad)
        value = pick(_blank(moment), sa.null(), value)
    return SqlValue("date", value, error_when(bad, t.lit.text("#NUM!")), nullable=moment.nullable)


def _blank(v: SqlValue) -> Any:
    return v.value.is_(None) if v.nullable else sa.false()


def _present(v: SqlValue) -> Any:
    return v.value.is_not(None) if v.nullable else sa.true()


# ---- text ------------------------------------------------------------------------------------

def _join(t, node: Binary, a: SqlValue, b: SqlValue) -> SqlValue:
    x, y = t.as_text(a, node), t.as_text(b, node)
    error = first_error(a, b)
    max_len = x.max_len + y.max_len
    if max_len > MAX_TEXT:
        too_long = t.texts.length(x.value) + t.texts.length(y.value) > MAX_TEXT
        error = first_error(error, error_when(too_long, t.lit.text("#VALUE!")))
    return SqlValue("text", joined(x.value, y.value), error, nullable=False, max_len=min(max_len, MAX_TEXT))


# ---- comparisons -----------------------------------------------------------------------------

def compare(t, node: Node, op: str, a: SqlValue, b: SqlValue) -> SqlValue:
    """a op b in Excel's order (operators.compare); never blank."""
    error = first_error(a, b)
    if a.kind == "error" or b.kind == "error":
        return SqlValue("boolean", sa.false(), error, nullable=False)
    if a.kind == "blank":
        a = _empty_like(t, b)
    if b.kind == "blank":
        b = _empty_like(t, a)
    if RANK[a.kind] == RANK[b.kind]:
        value = _same_rank(t, node, op, a, b)
    else:
        value = _across_ranks(t, node, op, a, b)
    return SqlValue("boolean", value, error, nullable=False)


RANK = {"number": 0, "date": 0, "datetime": 0, "text": 1, "boolean": 2, "blank": 0}


def _empty_like(t, other: SqlValue) -> SqlValue:
    """The blank as `other`'s kind sees it: 0, "", FALSE or day 0."""
    kind = other.kind
    if kind in ("number", "blank"):
        return t.numbers.zero()
    if kind == "text":
        return t.constant("")
    if kind == "boolean":
        return t.constant(False)
    return t.constant(EXCEL_EPOCH).but(kind="date")


def _order(op: str, sign: int) -> bool:
    return {"=": sign == 0, "<>": sign != 0, "<": sign < 0, "<=": sign <= 0,
            ">": sign > 0, ">=": sign >= 0}[op]


def _across_ranks(t, node: Node, op: str, a: SqlValue, b: SqlValue) -> Any:
    """Different kinds: decided by the kinds, unless a side is blank on this row."""
    fixed = t.lit.boolean(_order(op, -1 if RANK[a.kind] < RANK[b.kind] else 1))
    cases = []
    if a.nullable and b.nullable:
        cases.append((sa.and_(a.value.is_(None), b.value.is_(None)), t.lit.boolean(_order(op, 0))))
    if a.nullable:
        cases.append((a.value.is_(None), _same_rank(t, node, op, _empty_like(t, b), b)))
    if b.nullable:
        cases.append((b.value.is_(None), _same_rank(t, node, op, a, _empty_like(t, a))))
    return sa.case(*cases, else_=fixed) if cases else fixed


def _same_rank(t, node: Node, op: str, a: SqlValue, b: SqlValue) -> Any:
    kinds = {a.kind, b.kind}
    if kinds == {"number"}:
        return _numbers_compared(t, op, a, b)
    if kinds == {"text"}:
        if op in ("=", "<>") and (a.is_constant or b.is_constant):
            value, constant = (b, a) if a.is_constant else (a, b)
            equal = t.texts.equals_folded(_text_or_empty(t, value), constant.constant.casefold())
            return equal if op == "=" else sa.not_(equal)
        return t.texts.ordered(op, _folded(t, a), _folded(t, b))
    if kinds == {"boolean"}:
        return _ORDER[op](_bool(t, a), _bool(t, b))
    if "datetime" in kinds and "number" in kinds:
        raise t.refuse(node, "compares a number with a date and time, which runs only outside "
                             "the database")
    if kinds <= {"number", "date"}:
        x = t.serial_of(a) if a.kind == "date" else a
        y = t.serial_of(b) if b.kind == "date" else b
        return _numbers_compared(t, op, x.but(error=None), y.but(error=None))
    if kinds == {"date"}:
        return _ORDER[op](_day(t, a), _day(t, b))
    return _ORDER[op](_wall(t, a), _wall(t, b))


def _numbers_compared(t, op: str, a: SqlValue, b: SqlValue) -> Any:
    x, y = t.numbers.aligned(a, b)       # exactly as compared (see need_exact)
    t.need_exact(x)
    t.need_exact(y)
    return t.numbers.compare(op, x, y)


def _folded(t, v: SqlValue) -> Any:
    if v.is_constant:
        return t.lit.text(v.constant.casefold())
    return t.texts.fold(_text_or_empty(t, v))


def _text_or_empty(t, v: SqlValue) -> Any:
    return sa.func.coalesce(v.value, t.lit.text("")) if v.nullable else v.value


def _bool(t, v: SqlValue) -> Any:
    """A boolean as 0 or 1 (FALSE < TRUE; a blank is FALSE)."""
    if v.is_constant:
        return t.lit.integer(int(v.constant))
    truth = sa.func.coalesce(v.value, sa.false()) if v.nullable else v.value
    return pick(truth, t.lit.integer(1), t.lit.integer(0))


def _day(t, v: SqlValue) -> Any:
    return sa.func.coalesce(v.value, t.dates.const_date(EXCEL_EPOCH)) if v.nullable else v.value


def _wall(t, v: SqlValue) -> Any:
    """A date or datetime as wall-clock time in the workspace zone (a blank is day 0)."""
    day0 = t.dates.date_wall(t.dates.const_date(EXCEL_EPOCH))
    wall = t.dates.date_wall(v.value) if v.kind == "date" else t.dates.wall(v.value)
    return sa.func.coalesce(wall, day0) if v.nullable else wall


_ORDER = {
    "=": lambda x, y: x == y, "<>": lambda x, y: x != y, "<": lambda x, y: x < y,
    "<=": lambda x, y: x <= y, ">": lambda x, y: x > y, ">=": lambda x, y: x >= y,
}

"""The functions that run in the database, each as the function library defines it
(engine/formula/functions/*.py), with the same argument coercions and error order:
the leftmost error among the arguments first, then the function's own.

A function missing from `TRANSLATIONS` is refused by name, so a caller can say
"uses SUMIF, which runs only outside the database". Arguments that set the shape of a
result (ROUND's decimal places, POWER's exponent) must be constants: SQL needs them
when the query is written.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable

import sqlalchemy as sa

from engine.formula.nodes import Call
from engine.formula.sql_dates import FIRST_SERIAL, LAST_SERIAL
from engine.formula.sql_operators import _power, compare, move_date
from engine.formula.sql_values import MAX_TEXT, SqlValue, error_when, first_error, joined, let, pick
from engine.formula.values import ErrorValue, parse_number_text, to_int

TRANSLATIONS: dict[str, Callable[[Any, Call], SqlValue]] = {}
ROUNDING = {"ROUND": "half_up", "ROUNDUP": "up", "ROUNDDOWN": "down", "TRUNC": "down", "INT": "floor"}
MAX_PLACES = 308        # math.round_to: rounding 309 or more places left of the point gives 0


def translation(*names: str):
    def register(translate: Callable[[Any, Call], SqlValue]):
        for name in names:
            TRANSLATIONS[name] = translate
        return translate
    return register


def call(t, node: Call) -> SqlValue:
    translate = TRANSLATIONS.get(node.name)
    if translate is None:
        raise t.refuse(node, f"uses {node.name}, which runs only outside the database")
    return translate(t, node)


def _args(t, node: Call) -> list[SqlValue]:
    return [t.visit(arg) for arg in node.args]


def _number(t, node: Call, value: SqlValue) -> tuple[SqlValue, Any]:
    return t.as_number(value, node, f"{node.name} computes with")


# ---- logic -----------------------------------------------------------------------------------

@translation("IF")
def _if(t, node: Call) -> SqlValue:
    condition = t.visit(node.args[0])
    truth = t.as_truth(condition, node)
    yes = t.visit(node.args[1])
    no = t.visit(node.args[2]) if len(node.args) > 2 else t.constant(False)
    chosen = t.choose([(truth, yes)], no, node)
    branch_error = None
    if yes.error is not None or no.error is not None:
        branch_error = pick(truth, _or_null(yes.error), _or_null(no.error))
    return chosen.but(error=first_error(t.truth_error(condition), branch_error))


@translation("IFS")
def _ifs(t, node: Call) -> SqlValue:
    cases, errors = [], []
    for index in range(0, len(node.args), 2):
        condition = t.visit(node.args[index])
        truth = t.as_truth(condition, node)
        value = t.visit(node.args[index + 1])
        cases.append((truth, value))
        condition_error = t.truth_error(condition)
        if condition_error is not None:
            errors.append((condition_error.is_not(None), condition_error))
        errors.append((truth, _or_null(value.error)))
    none = t.constant(ErrorValue("#N/A"))
    chosen = t.choose(cases, none, node)
    return chosen.but(error=sa.case(*errors, else_=none.error))


def _or_null(error: Any) -> Any:
    return sa.null() if error is None else error


@translation("AND", "OR")
def _and_or(t, node: Call) -> SqlValue:
    """logicals(): blank arguments are skipped; none left is #VALUE!."""
    args = _args(t, node)
    decided, present = [], []
    for arg in args:
        if arg.kind in ("blank", "error"):
            continue
        truth = t.as_truth(arg, node)
        here = arg.value.is_not(None) if arg.nullable else sa.true()
        decided.append((truth, here))
        present.append(here)
    errors = [first_error(*args)] + [t.truth_error(arg) for arg in args if arg.kind == "text"]
    if not decided:
        return SqlValue("boolean", sa.false(), first_error(*errors, t.lit.text("#VALUE!")), nullable=False)
    always_there = all(isinstance(here, sa.sql.elements.True_) for here in present)
    if always_there:
        value = (sa.and_ if node.name == "AND" else sa.or_)(*[truth for truth, _ in decided])
    elif node.name == "AND":     # a blank argument is skipped: it cannot make AND false
        value = sa.not_(sa.or_(*[sa.and_(here, sa.not_(truth)) for truth, here in decided]))
    else:
        value = sa.or_(*[sa.and_(here, truth) for truth, here in decided])
    if not always_there:
        errors.append(error_when(sa.not_(sa.or_(*present)), t.lit.text("#VALUE!")))
    return SqlValue("boolean", value, first_error(*errors), nullable=False)


@translation("NOT")
def _not(t, node: Call) -> SqlValue:
    value = t.visit(node.args[0])
    truth = t.as_truth(value, node)
    return SqlValue("boolean", sa.not_(truth), first_error(value, t.truth_error(value)), nullable=False)


@translation("IFERROR", "IFNA")
def _if_error(t, node: Call) -> SqlValue:
    """The value, or the fallback where the value is an error (IFNA: only #N/A); lazy,
    as in the reference: the fallback is the result only on those rows."""
    value, fallback = _args(t, node)
    if value.error is None:
        return value
    caught = value.error.is_not(None) if node.name == "IFERROR" else value.error == t.lit.text("#N/A")
    chosen = t.choose([(caught, fallback)], value.but(error=None), node)
    error = pick(caught, _or_null(fallback.error), value.error)
    return chosen.but(error=error)


@translation("ISERROR", "ISNA")
def _is_error(t, node: Call) -> SqlValue:
    value = t.visit(node.args[0])
    if value.error is None:
        return t.constant(False)
    found = value.error.is_not(None) if node.name == "ISERROR" else value.error == t.lit.text("#N/A")
    return SqlValue("boolean", sa.func.coalesce(found, sa.false()), None, nullable=False)


@translation("ISBLANK", "ISEMPTY")
def _is_blank(t, node: Call) -> SqlValue:
    value = t.visit(node.args[0])
    blank = value.value.is_(None) if value.nullable else sa.false()
    if node.name == "ISEMPTY" and value.kind == "text":      # "" is empty too
        blank = sa.or_(blank, value.value == t.lit.text(""))
    if value.error is not None:     # an error is a value: not blank
        blank = sa.and_(value.error.is_(None), blank)
    return SqlValue("boolean", blank, None, nullable=False)


# ---- math ------------------------------------------------------------------------------------

def _constant_int(t, node: Call, arg: SqlValue, what: str) -> tuple[int, Any]:
    """An argument that must be a constant whole number: (value, its error or None)."""
    if not arg.is_constant:
        raise t.refuse(node, f"{node.name}'s {what} must be written as a number, not computed "
                             "per row, to run in the database")
    whole = to_int(arg.constant)
    if type(whole) is ErrorValue:
        return 0, t.lit.text(whole.code)
    return whole, None


@translation("ROUND", "ROUNDUP", "ROUNDDOWN", "TRUNC", "INT")
def _round(t, node: Call) -> SqlValue:
    args = _args(t, node)
    number, conversion = _number(t, node, args[0])
    places, places_error = (0, None) if len(args) < 2 else _constant_int(t, node, args[1], "number of places")
    if -places > MAX_PLACES:
        result = t.numbers.zero()
    elif places > 900:       # past every scale a number can have here: nothing to round
        result = number
    else:
        result = t.numbers.round(number, places, ROUNDING[node.name])
    return result.but(error=first_error(*args, conversion, places_error, result.error))


@translation("CEILING", "FLOOR")
def _to_multiple(t, node: Call) -> SqlValue:
    args = _args(t, node)
    number, conversion = _number(t, node, args[0])
    if len(args) > 1:
        step, step_conversion = _number(t, node, args[1])
    else:
        step, step_conversion = t.numbers.const(Decimal(1)), None
    t.need_exact(number)
    t.need_exact(step)
    number_zero, step_zero = t.numbers.is_zero(number), t.numbers.is_zero(step)
    wrong_sign = sa.and_(sa.not_(number_zero), sa.not_(t.numbers.is_negative(number)),
                         t.numbers.is_negative(step))
    if node.name == "CEILING":
        zero = sa.or_(number_zero, step_zero)
        own = [error_when(sa.and_(sa.not_(step_zero), wrong_sign), t.lit.text("#NUM!"))]
    else:
        zero = number_zero
        own = [error_when(sa.and_(sa.not_(number_zero), step_zero), t.lit.text("#DIV/0!")),
               error_when(sa.and_(sa.not_(step_zero), wrong_sign), t.lit.text("#NUM!"))]
    multiple = t.numbers.to_multiple(number, step, up=node.name == "CEILING")
    result = t.choose([(zero, t.numbers.zero())], multiple, node)
    return result.but(error=first_error(*args, conversion, step_conversion, multiple.error, *own),
                      nullable=False)


@translation("MOD")
def _mod(t, node: Call) -> SqlValue:
    args = _args(t, node)
    number, conversion = _number(t, node, args[0])
    divisor, divisor_conversion = _number(t, node, args[1])
    t.need_exact(number)
    t.need_exact(divisor)
    result = t.numbers.mod(number, divisor)
    return result.but(error=first_error(*args, conversion, divisor_conversion, result.error))


@translation("ABS", "SIGN")
def _abs_sign(t, node: Call) -> SqlValue:
    arg = t.visit(node.args[0])
    number, conversion = _number(t, node, arg)
    if node.name == "SIGN":
        t.need_exact(number)
        result = t.numbers.sign(number)
    else:
        result = t.numbers.abs(number)
    return result.but(error=first_error(arg, conversion))


@translation("POWER")
def _power_function(t, node: Call) -> SqlValue:
    base, exponent = _args(t, node)
    return _power(t, node, base, exponent)


@translation("MIN", "MAX")
def _extreme(t, node: Call) -> SqlValue:
    """args.numbers(): single values count when numbers, dates (as serial numbers),
    booleans (1/0) or text reading as a number; blanks and other text are skipped."""
    args = _args(t, node)
    candidates = [found for found in (_aggregate_number(t, node, arg) for arg in args) if found is not None]
    if not candidates:
        return t.numbers.zero().but(error=first_error(*args))
    candidates = t.numbers.aligned(*candidates)       # exactly as compared
    for found in candidates:
        t.need_exact(found)
    result = t.numbers.extreme(candidates, largest=node.name == "MAX")
    return result.but(error=first_error(*args), nullable=False)


def _aggregate_number(t, node: Call, arg: SqlValue) -> SqlValue | None:
    if arg.kind in ("blank", "error"):
        return None
    if arg.kind == "number":
        return arg.but(error=None)
    if arg.kind == "date":
        serial = t.serial_of(arg).but(error=None, maybe_date=True)
        if arg.nullable:
            serial = serial.but(value=pick(arg.value.is_(None), sa.null(), serial.value), nullable=True)
        return serial
    if arg.kind == "boolean":
        one, zero = t.lit.integer(1), t.lit.integer(0)
        value = sa.case((arg.value, one), (sa.not_(arg.value), zero), else_=sa.null())
        return t.numbers.from_int(value, 1, nullable=arg.nullable)
    if arg.is_constant:
        parsed = parse_number_text(arg.constant)
        return None if parsed is None else t.numbers.const(parsed)
    raise t.refuse(node, f"{node.name} over text or date-and-time values runs only outside the "
                         "database")


# ---- text ------------------------------------------------------------------------------------

def _texts(t, node: Call, args: list[SqlValue]) -> list[SqlValue]:
    return [t.as_text(arg, node) for arg in args]


def _count(t, node: Call, args: list[SqlValue], index: int, default: int) -> tuple[Any, Any]:
    if index >= len(args):
        return t.lit.integer(default), None
    return t.as_int(args[index], node)


@translation("LEFT", "RIGHT")
def _left_right(t, node: Call) -> SqlValue:
    args = _args(t, node)
    (text,) = _texts(t, node, args[:1])
    count, count_error = _count(t, node, args, 1, 1)
    negative = count < 0
    cut = (t.texts.left if node.name == "LEFT" else t.texts.right)(text.value, pick(negative, 0, count))
    error = first_error(*args, count_error, error_when(negative, t.lit.text("#VALUE!")))
    return SqlValue("text", cut, error, nullable=False, max_len=text.max_len)


@translation("MID")
def _mid(t, node: Call) -> SqlValue:
    args = _args(t, node)
    (text,) = _texts(t, node, args[:1])
    start, start_error = t.as_int(args[1], node)
    count, count_error = t.as_int(args[2], node)
    bad = sa.or_(start < 1, count < 0)
    cut = t.texts.mid(text.value, pick(bad, 1, start), pick(bad, 0, count))
    error = first_error(*args, start_error, count_error, error_when(bad, t.lit.text("#VALUE!")))
    return SqlValue("text", cut, error, nullable=False, max_len=text.max_len)


@translation("LEN")
def _len(t, node: Call) -> SqlValue:
    arg = t.visit(node.args[0])
    text = t.as_text(arg, node)
    return t.numbers.from_int(t.texts.length(text.value), 7).but(error=first_error(arg))


@translation("UPPER", "LOWER", "TRIM")
def _recase(t, node: Call) -> SqlValue:
    arg = t.visit(node.args[0])
    text = t.as_text(arg, node)
    change = {"UPPER": t.texts.upper, "LOWER": t.texts.lower, "TRIM": t.texts.trim}[node.name]
    grows = 3 if node.name == "UPPER" else 1      # ß -> SS: a character may become three
    result = SqlValue("text", change(text.value), first_error(arg), nullable=False,
                      max_len=min(text.max_len * grows, MAX_TEXT))
    if text.max_len * grows > MAX_TEXT:
        too_long = t.texts.length(result.value) > MAX_TEXT
        result = result.but(error=first_error(result, error_when(too_long, t.lit.text("#VALUE!"))))
    return result


@translation("CONCATENATE", "CONCAT")
def _concatenate(t, node: Call) -> SqlValue:
    args = _args(t, node)
    texts = _texts(t, node, args)
    value = joined(*[text.value for text in texts])
    max_len = sum(text.max_len for text in texts)
    error = first_error(*args)
    if max_len > MAX_TEXT:
        total = sum((t.texts.length(text.value) for text in texts[1:]), t.texts.length(texts[0].value))
        error = first_error(error, error_when(total > MAX_TEXT, t.lit.text("#VALUE!")))
    return SqlValue("text", value, error, nullable=False, max_len=min(max_len, MAX_TEXT))


@translation("EXACT")
def _exact(t, node: Call) -> SqlValue:
    args = _args(t, node)
    first, second = _texts(t, node, args)
    return SqlValue("boolean", t.texts.same(first.value, second.value), first_error(*args), nullable=False)


@translation("FIND")
def _find(t, node: Call) -> SqlValue:
    args = _args(t, node)
    needle, haystack = _texts(t, node, args[:2])
    start, start_error = _count(t, node, args, 2, 1)
    bad_start = sa.or_(start < 1, start > t.texts.length(haystack.value) + 1)
    safe_start = pick(bad_start, 1, start)
    position = t.texts.position(needle.value, t.texts.mid(haystack.value, safe_start, MAX_TEXT + 1))
    found = t.numbers.from_int(position + safe_start - 1, 7)
    error = first_error(*args, start_error, error_when(bad_start, t.lit.text("#VALUE!")),
                        error_when(position == 0, t.lit.text("#VALUE!")))
    return found.but(error=error)


# ---- dates -----------------------------------------------------------------------------------

@translation("YEAR", "MONTH", "DAY")
def _date_part(t, node: Call) -> SqlValue:
    arg = t.visit(node.args[0])
    day = t.as_date(arg, node)
    part = t.dates.part(node.name.lower(), day.value)
    return t.numbers.from_int(part, 4, nullable=True).but(error=first_error(arg, day))


@translation("DAYS")
def _days(t, node: Call) -> SqlValue:
    args = _args(t, node)
    end, start = (t.as_date(arg, node) for arg in args)
    difference = t.dates.serial(end.value) - t.dates.serial(start.value)
    return t.numbers.from_int(difference, 7, nullable=True).but(error=first_error(*args, end, start))


@translation("DATEDELTA")
def _datedelta(t, node: Call) -> SqlValue:
    start, days = _args(t, node)
    if start.kind == "datetime":
        raise t.refuse(node, "DATEDELTA of a date and time runs only outside the database; "
                             "use a date")
    if start.kind in ("date", "blank", "error"):
        moment, moment_error = (start.but(error=None), None) if start.kind == "date" else \
            (SqlValue("date", sa.null()), None)
    elif start.kind == "text":
        moment = t.as_date(start, node)
        moment_error = moment.error
        moment = moment.but(error=None)
    else:     # a number or a boolean is no date
        moment, moment_error = SqlValue("date", sa.null()), t.lit.text("#VALUE!")
    count, conversion = _number(t, node, days)
    moved = move_date(t, moment, count, 1)
    return moved.but(error=first_error(start, days, moment_error, conversion, moved.error))


@translation("DATE")
def _date(t, node: Call) -> SqlValue:
    """DATE(year, month, day) (functions/date.py make_date): months and days roll over;
    years 0-1899 mean 1900-3799; outside years 1-9999 it is #NUM!."""
    args = _args(t, node)
    (year, year_error), (month, month_error), (day, day_error) = (t.as_int(arg, node) for arg in args)

    def serial(y: Any, m: Any, d: Any) -> Any:
        full_year = pick(y < 1900, y + 1900, y)
        months = full_year * 12 + m - 1
        month0 = ((months % 12) + 12) % 12
        whole_year = (months - month0) // 12
        bad_year = sa.or_(whole_year < 1, whole_year > 9999)
        first = t.dates.first_of_month_serial(pick(bad_year, 2000, whole_year), month0 + 1)
        out_of_range = sa.or_(y < 0, y > 9999, m < -120_000, m > 120_000, d < -3_700_000,
                              d > 3_700_000, bad_year)
        return pick(out_of_range, FIRST_SERIAL - 1, first + d - 1)

    def in_range(s: Any) -> Any:
        return sa.and_(s >= FIRST_SERIAL, s <= LAST_SERIAL)

    days = let([year, month, day], serial)
    value = let([days], lambda s: t.dates.from_serial(pick(in_range(s), s, 0)))
    own = let([days], lambda s: error_when(sa.not_(in_range(s)), t.lit.text("#NUM!")))
    error = first_error(*args, year_error, month_error, day_error, own)
    return SqlValue("date", value, error, nullable=False)


__all__ = ["TRANSLATIONS", "call", "compare"]

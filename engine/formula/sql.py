"""The SQL back end: a formula as one SQLAlchemy Core expression, with the meaning the
reference evaluator gives it (engine/formula/reference.py).

    resolver = lambda path: {("amount",): SqlField("number", orders.c.amount, scale=2)}.get(path)
    sql = translate(parse("ROUND(amount * 5%, 2) > 500"), resolver, POSTGRESQL, EvalContext())
    select(orders.c.id).where(sql.condition())      # a filter
    select(sql.value, sql.error)                     # the value and error code of each row

`translatable(formula)` says beforehand whether a formula can run in the database and,
if not, why ("uses SUMIF, which runs only outside the database"). What is translated
gives, row for row, the value and the error code the reference evaluator gives: the
differential tests (tests/formula/test_sql_differential.py) hold both databases to it.

What runs in the database: numbers (exact, see sql_numbers.py), texts (sql_text.py),
dates (sql_dates.py), booleans and blanks, every operator, AND OR NOT IF IFS IFERROR IFNA
ISBLANK ISEMPTY ISERROR ISNA, ROUND ROUNDUP ROUNDDOWN TRUNC INT CEILING FLOOR MOD ABS SIGN POWER MIN MAX,
LEFT RIGHT MID LEN UPPER LOWER TRIM CONCATENATE CONCAT EXACT FIND, YEAR MONTH DAY
TODAY NOW DATE DAYS DATEDELTA (sql_functions.py). Parts of a formula without fields are
computed once, by the reference evaluator, before any SQL is written; TODAY() and NOW()
come from the EvalContext, never from the database clock.

What does not: arrays (subform columns, multiple relations), text read as a number or a
date, arithmetic on date-and-time values, and every other function. Those raise
NotTranslatable; the caller refuses the formula or computes it elsewhere.

An error in a filter condition does not match: `condition()` is TRUE only for rows
where the formula gives TRUE (a number other than 0, a date) without an error.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Callable, Mapping

import sqlalchemy as sa

from engine.dialect import DIALECTS, Dialect
from engine.formula import sql_functions, sql_operators
from engine.formula.functions import FUNCTIONS
from engine.formula.nodes import Binary, Boolean, Call, FieldRef, Formula, Node, Number, Text, Unary
from engine.formula.reference import FormulaEval, guarded_result, to_python_ast
from engine.formula.sql_dates import LAST_SERIAL
from engine.formula.sql_dialects import SqlDialect
from engine.formula.sql_sqlite import python_fallback
from engine.formula.sql_values import (
    MAX_TEXT, NOT_CONSTANT, NotTranslatable, SqlValue, error_when, first_error, pick,
)
from engine.formula.values import ErrorValue, EvalContext, EXCEL_EPOCH, to_bool, to_date, to_number

__all__ = ["SqlField", "SqlFormula", "NotTranslatable", "translate", "translatable"]

RANK = {"number": 0, "date": 0, "datetime": 0, "text": 1, "boolean": 2}
# SQL elements a translation may write (counting repeats, as the SQL text has them):
# beyond, the formula is refused rather than sent to the database as a huge statement.
MAX_SQL_SIZE = 20_000


@dataclass(frozen=True)
class SqlField:
    """How the database holds a field path a formula reads: its kind (the formula
    type), the column (or correlated subquery) of its value, the column of its error
    code (formula fields), and for numbers the decimal places and digits before the
    point (|value| < 10**int_digits)."""

    kind: str
    value: Any
    error: Any = None
    scale: int = 0
    int_digits: int = 18
    max_len: int = MAX_TEXT


Resolver = Callable[[tuple[str, ...]], "SqlField | None"]


@dataclass(frozen=True)
class SqlFormula:
    """A translated formula: its value and error expressions and how to read them."""

    kind: str                 # number text boolean date datetime (or blank/error: constant)
    value: Any
    error: Any                # None when the formula can never give an error
    scale: int | None
    dialect: Dialect
    tz: Any
    truth: SqlValue | None    # the value as a condition (values.to_bool); None for text

    def condition(self) -> Any:
        """TRUE where the formula gives a true value (TRUE, a number other than 0, a
        date) and no error: how a filter uses it."""
        if self.truth is None:
            raise NotTranslatable("the formula gives text; a condition must give TRUE or FALSE, "
                                  "e.g. status = \"won\"")
        truth = self.truth.value
        if self.truth.nullable:
            truth = sa.func.coalesce(truth, sa.false())
        error = self.truth.error
        # The truth first: most rows fail it, and then the error is never looked at.
        return truth if error is None else sa.and_(truth, error.is_(None))

    def refusal(self) -> Any:
        """TRUE where the formula gives a false value (FALSE, 0) without an error: the records
        a validation rule refuses. An empty result and an error pass a rule
        (engine/computed/record_rules.py `fails`), so they do not count."""
        if self.truth is None:
            raise NotTranslatable("gives text; a rule must give TRUE or FALSE, e.g. status = \"won\"")
        false = sa.and_(sa.not_(self.truth.value), self.value.is_not(None))
        error = self.truth.error
        return false if error is None else sa.and_(false, error.is_(None))

    def error_or_null(self) -> Any:
        return self.error if self.error is not None else sa.null()

    def decode(self, value: Any, error: Any) -> Any:
        """The formula value of one row from the selected value and error."""
        if error is not None:
            return ErrorValue(error)
        if value is None:
            return None
        return _DECODE[self.kind](self, value)


def translate(formula: Formula, resolver: Resolver, dialect: Any, ctx: EvalContext | None = None,
              functions: Mapping | None = None) -> SqlFormula:
    """The formula as SQL for `dialect` (a Dialect, or what Dialect.of takes: a connection,
    "postgresql", "sqlite"); raises NotTranslatable."""
    if functions is None:
        functions = FUNCTIONS
    ctx = ctx or EvalContext()
    dialect = Dialect.of(dialect)
    translator = Translator(formula, resolver, SqlDialect(dialect, ctx.tz.key), ctx, functions)
    root, truth = translator.root()
    parts = [root.value, root.error] + ([truth.value, truth.error] if truth is not None else [])
    size = sql_size(*[part for part in parts if part is not None])
    if size > MAX_SQL_SIZE:
        raise NotTranslatable(f"is too complex to run in the database ({size} SQL elements, at "
                              f"most {MAX_SQL_SIZE}); split it into formula fields")
    return SqlFormula(root.kind, root.value, root.error, root.scale if root.kind == "number" else None,
                      dialect, ctx.tz, truth)


def translatable(formula: Formula, resolver: Resolver | None = None,
                 ctx: EvalContext | None = None) -> tuple[bool, str]:
    """(True, "") when the formula runs in both databases, else (False, the reason).

    Without a resolver, fields are taken with the types the type checker gave the
    tree (`check(...).tree`); a formula that was not checked needs a resolver."""
    resolver = resolver or _typed_resolver(formula)
    for dialect in DIALECTS:
        try:
            translate(formula, resolver, dialect, ctx)
        except NotTranslatable as refusal:
            return False, refusal.reason
    return True, ""


def _typed_resolver(formula: Formula) -> Resolver:
    kinds = {node.path: node.type for node in formula.tree.walk() if isinstance(node, FieldRef)}

    def resolve(path: tuple[str, ...]) -> SqlField | None:
        kind = kinds.get(path)
        if kind not in RANK:
            return None
        return SqlField(kind, sa.column("_".join(path)))
    return resolve


# ============================================================================================

class Translator:
    """One translation: walks the tree, giving each node its SqlValue."""

    def __init__(self, formula: Formula, resolver: Resolver, dialect: SqlDialect, ctx: EvalContext,
                 functions: Mapping):
        self.formula, self.resolver, self.dialect = formula, resolver, dialect
        self.ctx, self.functions = ctx, functions
        self.lit, self.numbers, self.texts, self.dates = (dialect.lit, dialect.numbers,
                                                         dialect.texts, dialect.dates)
        self.fields: dict[tuple[str, ...], SqlField] = {}
        self._with_fields = _nodes_with_fields(formula.tree)
        self._inexact: list[list[Any]] = []

    # ---- walking ----------------------------------------------------------------------------
    def root(self) -> tuple[SqlValue, SqlValue | None]:
        """The formula's value, and its truth as a condition (None for a text)."""
        tree = self.formula.tree
        raw = self.visit(tree)
        if raw.maybe_date:
            raise self.refuse(tree, "gives a date moved by days, which the database holds as a "
                                    "number; write DATEDELTA(date, days)")
        self._inexact.append([])
        if raw.kind == "number":
            self.need_exact(raw)
        value = self._exact_rows(tree, raw, self._inexact.pop(), root=True)
        self._inexact.append([])
        try:
            truth = SqlValue("boolean", self.as_truth(raw, tree), raw.error, nullable=False)
        except NotTranslatable:
            truth = None
        inexact = self._inexact.pop()
        return value, truth and self._exact_rows(tree, truth, inexact)

    def visit(self, node: Node) -> SqlValue:
        if id(node) not in self._with_fields:
            return self.constant(self.fold(node), node)
        self._inexact.append([])
        try:
            result = self._visit(node)
        finally:
            inexact = self._inexact.pop()
        return self._exact_rows(node, result, inexact)

    def _visit(self, node: Node) -> SqlValue:
        if isinstance(node, FieldRef):
            return self.field(node)
        if isinstance(node, Unary):
            return sql_operators.unary(self, node)
        if isinstance(node, Binary):
            return sql_operators.binary(self, node)
        if isinstance(node, Call):
            return sql_functions.call(self, node)
        raise self.refuse(node, "uses an array, which runs only outside the database")

    def refuse(self, node: Node, reason: str) -> NotTranslatable:
        return NotTranslatable(f"{reason} (at {node.line}:{node.column})", node.start)

    # ---- constants --------------------------------------------------------------------------
    def fold(self, node: Node) -> Any:
        """The value of a part without fields, by the reference evaluator."""
        if isinstance(node, (Number, Text, Boolean)):   # a literal is its value, as evaluated
            return node.value
        ctx = dataclasses.replace(self.ctx, steps=0)
        evaluator = FormulaEval(self.functions, {}, ctx)
        tree = to_python_ast(node)
        return guarded_result(lambda: evaluator.eval("", previously_parsed=tree), self.formula)

    def constant(self, value: Any, node: Node | None = None) -> SqlValue:
        kind = type(value)
        if value is None:
            return SqlValue("blank", sa.null(), constant=None)
        if kind is ErrorValue:
            return SqlValue("error", sa.null(), self.lit.text(value.code), constant=value)
        if kind is bool:
            return SqlValue("boolean", self.lit.boolean(value), nullable=False, constant=value)
        if kind is Decimal:
            return self.numbers.const(value).but(constant=value)
        if kind is str:
            return SqlValue("text", self.lit.text(value), nullable=False, max_len=len(value),
                            constant=value)
        if kind is date:
            return SqlValue("date", self.dates.const_date(value), nullable=False, constant=value)
        if kind is datetime:
            return SqlValue("datetime", self.dates.const_datetime(value), nullable=False,
                            constant=value)
        raise self.refuse(node or self.formula.tree, "gives an array, which runs only outside the database")

    # ---- fields -----------------------------------------------------------------------------
    def field(self, node: FieldRef) -> SqlValue:
        found = self.resolver(node.path)
        if found is None or found.kind not in RANK:
            raise self.refuse(node, f"reads '{node.dotted}', whose values the database cannot "
                                    f"compute with (a list, a subform column or a composite value)")
        self.fields[node.path] = found
        if found.kind == "number":
            return self.numbers.column(found.value, found.scale, found.int_digits,
                                       found.int_digits + found.scale).but(error=found.error)
        if found.kind == "date":
            value = self.dates.column_date(found.value)
        elif found.kind == "datetime":
            value = self.dates.column_datetime(found.value)
        else:
            value = found.value
        return SqlValue(found.kind, value, found.error, max_len=found.max_len)

    # ---- exactness on SQLite: rows SQL cannot compute exactly are computed by Python --------
    def need_exact(self, value: SqlValue) -> None:
        """The node being translated uses `value` exactly: where it is a SQLite REAL
        (an inexact stand-in, see sql_numbers.py), the node is computed in Python."""
        condition = self.numbers.poisoned(value) if value.kind == "number" else None
        if condition is not None:
            self._inexact[-1].append(condition)

    def inexact_when(self, condition: Any) -> None:
        if condition is not None:
            self._inexact[-1].append(condition)

    def _exact_rows(self, node: Node, result: SqlValue, inexact: list[Any], root: bool = False) -> SqlValue:
        if not inexact:
            return result
        if not self.dialect.computes_in_python:
            raise AssertionError("PostgreSQL computes every translated node exactly")
        when = inexact[0] if len(inexact) == 1 else sa.or_(*inexact)
        value, error = python_fallback(self, node, result, exact_text=root)
        merged_error = pick(when, error, result.error if result.error is not None else sa.null())
        return result.but(value=pick(when, value, result.value), error=merged_error)

    # ---- conversions (values.py: to_number, to_text, to_bool, to_int, to_date) ------------
    def as_number(self, v: SqlValue, node: Node, what: str) -> tuple[SqlValue, Any]:
        """`v` as a number for arithmetic, and the conversion's own error (a date is
        #VALUE!, as operators.py has it); `what` names the use in a refusal."""
        if v.kind == "number":
            if v.maybe_date:
                raise self.refuse(node, f"{what} a date moved by days; to move it further, "
                                        "write DATEDELTA(DATEDELTA(date, days), more_days)")
            return v.but(error=None), None
        if v.kind in ("blank", "error"):
            return self.numbers.zero(), None
        if v.kind == "boolean":
            truth = sa.func.coalesce(v.value, sa.false()) if v.nullable else v.value
            return self.numbers.from_int(pick(truth, self.lit.integer(1), self.lit.integer(0)), 1), None
        if v.kind in ("date", "datetime"):
            return self.numbers.zero(), self.lit.text("#VALUE!")
        if v.is_constant:
            number = to_number(v.constant)
            if type(number) is ErrorValue:
                return self.numbers.zero(), self.lit.text(number.code)
            return self.numbers.const(number), None
        raise self.refuse(node, f"{what} text: the database reads only numbers as numbers; "
                                "write VALUE(...) outside a filter, or use a number field")

    def as_text(self, v: SqlValue, node: Node) -> SqlValue:
        """`v` as text (values.to_text): blank is "", numbers as `&` writes them."""
        if v.kind == "text":
            value = sa.func.coalesce(v.value, self.lit.text("")) if v.nullable else v.value
            return v.but(value=value, error=None, nullable=False)
        if v.kind in ("blank", "error"):
            return self.constant("").but(error=None)
        if v.kind == "number":
            if v.maybe_date:
                raise self.refuse(node, "writes a date moved by days as text; write "
                                        "DATEDELTA(date, days) instead of date + days")
            self.need_exact(v)
            text, inexact = self.numbers.to_text(v)
            self.inexact_when(inexact)
            if v.nullable:
                text = pick(v.value.is_(None), self.lit.text(""), text)
            return SqlValue("text", text, nullable=False, max_len=40)
        if v.kind == "boolean":
            value = sa.case((v.value, self.lit.text("TRUE")), (sa.not_(v.value), self.lit.text("FALSE")),
                            else_=self.lit.text(""))
            return SqlValue("text", value, nullable=False, max_len=5)
        maker = self.dates.date_text if v.kind == "date" else self.dates.datetime_text
        value = sa.func.coalesce(maker(v.value), self.lit.text("")) if v.nullable else maker(v.value)
        return SqlValue("text", value, nullable=False, max_len=19)

    def as_truth(self, v: SqlValue, node: Node) -> Any:
        """`v` as a condition (values.to_bool): blank and 0 are FALSE, dates TRUE."""
        if v.kind == "boolean":
            return sa.func.coalesce(v.value, sa.false()) if v.nullable else v.value
        if v.kind in ("blank", "error"):
            return sa.false()
        if v.kind == "number":
            if v.maybe_date:
                raise self.refuse(node, "uses a date moved by days as a condition; compare it "
                                        "with something")
            self.need_exact(v)
            return sa.not_(self.numbers.is_zero(v))
        if v.kind in ("date", "datetime"):
            return v.value.is_not(None) if v.nullable else sa.true()
        if v.is_constant:
            truth = to_bool(v.constant)
            return sa.false() if type(truth) is ErrorValue else self.lit.boolean(truth)
        raise self.refuse(node, "uses text as a condition; compare it, e.g. status = \"won\"")

    def truth_error(self, v: SqlValue) -> Any:
        """The error of using `v` as a condition: its own, or #VALUE! for text that is
        not TRUE/FALSE (constants only reach here)."""
        if v.kind == "text" and v.is_constant:
            truth = to_bool(v.constant)
            if type(truth) is ErrorValue:
                return self.lit.text(truth.code)
        return v.error

    def as_int(self, v: SqlValue, node: Node) -> tuple[Any, Any]:
        """A count or position (values.to_int): (SQL integer, conversion error)."""
        number, error = self.as_number(v, node, "counts with")
        self.need_exact(number)
        whole, too_big = self.numbers.to_int(number)
        return whole, first_error(error, too_big)

    def as_date(self, v: SqlValue, node: Node) -> SqlValue:
        """`v` as a date (values.to_date): a datetime's day, a serial number's date;
        blank stays blank. The result's error holds the conversion's own."""
        if v.kind == "date":
            return v.but(error=None)
        if v.kind == "datetime":
            return SqlValue("date", self.dates.local_date(v.value), nullable=v.nullable)
        if v.kind in ("blank", "error"):
            return SqlValue("date", sa.null())
        if v.kind == "boolean":
            return SqlValue("date", sa.null(), self.lit.text("#VALUE!"))
        if v.kind == "number":
            return self.date_of_serial(v)
        if v.is_constant:
            found = to_date(v.constant, self.ctx.tz)
            if type(found) is ErrorValue:
                return SqlValue("date", sa.null(), self.lit.text(found.code))
            return self.constant(found).but(kind="date")
        raise self.refuse(node, "reads text as a date; use a date field, or DATE(year, month, day)")

    def date_of_serial(self, v: SqlValue) -> SqlValue:
        """An Excel serial number's date (values.serial_to_date): negative is #NUM!, and
        so is a day past 9999-12-31; blank stays blank."""
        self.need_exact(v)
        days, too_big = self.numbers.to_int(self.numbers.round(v.but(error=None), 0, "floor"))
        negative = self.numbers.is_negative(v)
        beyond = days > LAST_SERIAL
        bad = sa.or_(negative, beyond)
        value = self.dates.from_serial(pick(bad, self.lit.integer(0), days))
        if v.nullable:
            value = pick(v.value.is_(None), sa.null(), value)
            bad = sa.and_(v.value.is_not(None), bad)
        return SqlValue("date", value, first_error(too_big, error_when(bad, self.lit.text("#NUM!"))),
                        nullable=v.nullable)

    def serial_of(self, v: SqlValue) -> SqlValue:
        """A date as its Excel serial number (for comparing it with numbers)."""
        value = v.value if not v.nullable else sa.func.coalesce(v.value, self.dates.const_date(EXCEL_EPOCH))
        return self.numbers.from_int(self.dates.serial(value), 7).but(error=v.error)

    # ---- choosing between values of one kind (IF, IFS) -------------------------------------
    def unify(self, values: list[SqlValue], node: Node) -> tuple[str, list[SqlValue]]:
        """The kind several branches share, and the branches in it (blanks and errors
        take it; a date beside a moved date becomes its serial number)."""
        kinds = {v.kind for v in values} - {"blank", "error"}
        if {"date", "number"} <= kinds and all(v.maybe_date for v in values if v.kind == "number"):
            values = [self.serial_of(v).but(maybe_date=True, nullable=v.nullable)
                      if v.kind == "date" else v for v in values]
            kinds = {"number"}
        if len(kinds) > 1:
            raise self.refuse(node, f"{node.name if isinstance(node, Call) else 'IF'} gives "
                                    f"{' or '.join(sorted(kinds))} depending on the row; the "
                                    "database needs one kind of value")
        kind = kinds.pop() if kinds else "blank"
        if kind == "number":
            scales = [v.scale for v in values if v.kind == "number"]
            scale = None if None in scales else max(scales)
            values = [self._at_scale(v, scale) for v in values]
        return kind, values

    def _at_scale(self, v: SqlValue, scale: int | None) -> SqlValue:
        if v.kind != "number" or v.scale == scale or not self.dialect.database.scaled_numbers:
            return v
        factor = 10 ** (scale - v.scale)
        multiplier = self.lit.integer(factor) if scale - v.scale <= 18 else self.lit.real(float(Decimal(factor)))
        value = v.value * multiplier
        return v.but(value=value, scale=scale, poison=v.poison or v.int_digits + scale > 18,
                     constant=NOT_CONSTANT)

    def choose(self, cases: list[tuple[Any, SqlValue]], otherwise: SqlValue, node: Node) -> SqlValue:
        """CASE over branches of one kind; errors are the caller's."""
        kind, branches = self.unify([v for _, v in cases] + [otherwise], node)
        whens = [(condition, branch.value) for (condition, _), branch in zip(cases, branches)]
        value = sa.case(*whens, else_=branches[-1].value)
        numbers = [b for b in branches if b.kind == "number"]
        return SqlValue(
            kind, value, nullable=any(b.nullable or b.kind == "blank" for b in branches),
            scale=numbers[0].scale if numbers else 0,
            int_digits=max((b.int_digits for b in numbers), default=0),
            digits=max((b.digits for b in numbers), default=0),
            poison=any(b.poison for b in numbers),
            maybe_date=any(b.maybe_date for b in numbers),
            max_len=max((b.max_len for b in branches if b.kind == "text"), default=MAX_TEXT))


def sql_size(*expressions: Any) -> int:
    """The number of elements of SQL expressions as written out (a part used twice counts
    twice), computed once per distinct part, also across the expressions (a formula's
    value and its truth share most of theirs), so it is quick even when the answer is huge."""
    sizes: dict[int, int] = {}
    keep: list[Any] = []                  # the elements stay alive while their ids are keys
    stack: list[tuple[Any, Any]] = [(expression, None) for expression in expressions]
    while stack:
        element, children = stack.pop()
        key = id(element)
        if key in sizes:
            continue
        if children is None:
            children = tuple(element.get_children())
            if children:
                stack.append((element, children))
                stack.extend((child, None) for child in children if id(child) not in sizes)
                continue
        sizes[key] = 1 + sum([sizes[id(child)] for child in children])
        keep.append(element)
    return sum(sizes[id(expression)] for expression in expressions)


def _nodes_with_fields(tree: Node) -> set[int]:
    """Ids of the nodes with a field somewhere below (the others are constants)."""
    found: set[int] = set()
    order = list(tree.walk())
    for node in reversed(order):     # children before parents
        if isinstance(node, FieldRef) or any(id(child) in found for child in node.children()):
            found.add(id(node))
    return found


def _decode_number(sql: SqlFormula, value: Any) -> Any:
    if not sql.dialect.scaled_numbers:
        return Decimal(value)
    if isinstance(value, str):            # computed by Python: exact decimal text
        return Decimal(value)
    return Decimal(int(value)).scaleb(-(sql.scale or 0))


def _decode_datetime(sql: SqlFormula, value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(sql.tz)


_DECODE = {
    "number": _decode_number,
    "text": lambda sql, value: value,
    "boolean": lambda sql, value: bool(value),
    "date": lambda sql, value: date.fromisoformat(value) if isinstance(value, str) else value,
    "datetime": _decode_datetime,
    "blank": lambda sql, value: None,
    "error": lambda sql, value: None,
}

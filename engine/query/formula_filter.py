"""Formula conditions of the filter language: {"formula": "amount * 2 > credit"}.

The formula is parsed and type-checked against the form with the rest of the filter
(engine/computed/filter_tree.py: unknown fields get a "did you mean"), then translated to
SQL by the formula language's SQL back end (engine/formula/sql.py), so a record matches
exactly when the formula gives TRUE for it (an error, such as a division by zero, does
not match). A formula that cannot run in the database is refused with the reason ("uses
SUMIF, which runs only outside the database").

Fields are read from their columns; a path through single relations (customer.level,
customer.referrer.level, or a lookup field) is read by correlated subqueries unless the
caller says `related=False` (a rollup's filter reads the source records' own fields).
Related records in the recycle bin are still read, as formula fields read them.

The formula is translated for both databases when the filter is made (numbers are held
differently by SQLite and PostgreSQL), and the condition writes the one of the database
the statement runs on. Translations are kept with the table for the next page or count
with the same formula (see _Translations), and SQLAlchemy caches the compiled statement.
"""
from __future__ import annotations

import dataclasses
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from engine.computed.env import evaluation_context
from engine.computed.filter_tree import FilterEnv, FilterError, FormulaTest
from engine.computed.paths import PathFailure, resolve
from engine.definition.model import FormDef
from engine.dialect import DIALECTS, Dialect
from engine.fields.base import FieldType, ValueContext
from engine.fields.number import MAX_DIGITS
from engine.fields.registry import field_type
from engine.fields.system_fields import system_field
from engine.formula import FormulaSyntaxError, check, parse
from engine.formula.functions.registry import user_functions
from engine.formula.nodes import Formula
from engine.formula.sql import NotTranslatable, SqlField, translate
from engine.formula.sql_values import MAX_TEXT
from engine.query.tables import AppTables
from engine.storage.types import ExactDecimal, UTCDateTime

_ID_DIGITS = 19                 # record, user and department ids are 64-bit


def formula_sql(test: FormulaTest, form: FormDef, table: sa.Table, ctx: ValueContext, tables: AppTables,
                related: bool = True) -> ColumnElement:
    """The SQL condition of a parsed formula condition (engine/computed/filter_tree.py) over
    `table`; raises FilterError when the formula cannot run in the database."""
    eval_ctx = evaluation_context(ctx)
    sources = (form, *_read_identity(table), tables, related)
    cached = _CACHE.get(table, test.text, eval_ctx, sources)
    if cached is not None:
        return cached
    resolver = FormFields(form, table, tables, related)
    conditions = {}
    for dialect in DIALECTS:        # refuse now, not when the query runs, whatever the database
        try:
            conditions[dialect] = translate(test.formula, resolver, dialect, eval_ctx).condition()
        except NotTranslatable as refusal:
            raise FilterError(f"{test.path}.formula", "this formula cannot run in the database: it "
                              f"{refusal.reason}") from None
    condition = FormulaCondition(conditions)
    _CACHE.put(table, test.text, eval_ctx, sources, test.formula, condition)
    return condition


def rule_refusal(form: FormDef, table: sa.Table, text: str, ctx: ValueContext, tables: AppTables,
                 dialect: str) -> ColumnElement:
    """The SQL condition, in `dialect`, TRUE for the records of `table` that the validation
    rule `text` refuses (it gives FALSE or 0 without an error), its fields read as
    `tables` stores them. Raises NotTranslatable saying why when the rule cannot run in
    the database, or reads what `form` does not have."""
    try:
        formula = parse(text)
    except FormulaSyntaxError as error:
        raise NotTranslatable(f"cannot be read ({error})") from None
    result = check(formula, FilterEnv(form, tables.app, tables.types))
    if result.problems:
        raise NotTranslatable(f"reads what the installed form does not have ({result.problems[0].message})")
    typed = dataclasses.replace(formula, tree=result.tree)
    return translate(typed, FormFields(form, table, tables), dialect, evaluation_context(ctx)).refusal()


def _read_identity(table) -> tuple[Any, Any]:
    """What a translation over `table` depends on: the table, and for the columns of a
    read with clock-dependent fields (engine/query/columns.py ReadColumns, made for each
    read) the live SQL it puts in place of some columns, kept per day by that module."""
    overrides = getattr(table, "overrides", None)
    if overrides is None:
        return table, None
    return table.table, (overrides or None)


class _Translations:
    """Formula conditions already translated, kept in the table's `info` (so they go with
    the app definition's tables): a page or a count with the same filter costs no parse,
    check or translation again (milliseconds, more than the first page's query itself),
    and the same condition object lets SQLAlchemy reuse the compiled statement.

    An entry serves only the same form, table (and live columns), app and tables (by
    identity), the same time zone, and the same clock or user where the formula reads
    them (TODAY() and NOW(), CURRENTUSER(): folded into constants when translated)."""

    KEY = "formwork.formula_conditions"
    SIZE = 128                      # formulas per table; the oldest goes first

    def get(self, table, text: str, eval_ctx, sources: tuple) -> "FormulaCondition | None":
        store = self._store(table)
        entry = store.get((text, eval_ctx.tz.key)) if store is not None else None
        if entry is None:
            return None
        kept_sources, clock_of, clock, user, condition = entry
        if any(a is not b for a, b in zip(kept_sources, sources)):
            return None
        if clock_of is not None and clock != clock_of(eval_ctx):
            return None
        if user is not None and user != (eval_ctx.user,):
            return None
        return condition

    def put(self, table, text: str, eval_ctx, sources: tuple, formula: Formula,
            condition: "FormulaCondition") -> None:
        store = self._store(table)
        if store is None:
            return
        clock_of = _clock_of(formula)
        clock = clock_of(eval_ctx) if clock_of is not None else None
        user = (eval_ctx.user,) if user_functions(formula.functions) else None
        if len(store) >= self.SIZE:
            try:
                del store[next(iter(store))]
            except (KeyError, RuntimeError, StopIteration):   # another thread got there first
                pass
        store[(text, eval_ctx.tz.key)] = (sources, clock_of, clock, user, condition)

    def _store(self, table) -> dict | None:
        info = getattr(table, "info", None)      # a Table has one, an alias does not
        return None if info is None else info.setdefault(self.KEY, {})


def _clock_of(formula: Formula):
    """What of the clock a translation depends on: the moment for NOW(), the day for
    TODAY() alone (kept all day), nothing for a formula that does not read it."""
    if "NOW" in formula.functions:
        return lambda eval_ctx: eval_ctx.now
    if formula.volatile:
        return lambda eval_ctx: eval_ctx.today
    return None


_CACHE = _Translations()


class FormulaCondition(ColumnElement):
    """A formula condition: its translation for each database, the one of the statement's
    database written when the statement is compiled.

    Both translations are part of SQLAlchemy's cache key (their literals are bound
    parameters, extracted as for any expression), so a statement with a formula
    condition is compiled once, like a hand-written one."""

    inherit_cache = True
    type = sa.Boolean()
    # One attribute per database, named as it is (SQLAlchemy traverses attributes by name).
    _traverse_internals = [(dialect.name, InternalTraversal.dp_clauseelement) for dialect in DIALECTS]

    def __init__(self, conditions: dict[Dialect, ColumnElement]):
        for dialect in DIALECTS:
            setattr(self, dialect.name, conditions[dialect])

    def get_children(self, **kw):
        return tuple(getattr(self, dialect.name) for dialect in DIALECTS)


@compiles(FormulaCondition)
def _formula_condition_sql(element: FormulaCondition, compiler, **kw) -> str:
    return compiler.process(getattr(element, Dialect.of(compiler.dialect).name), **kw)


# ---- reading fields ----------------------------------------------------------------------------

class FormFields:
    """The resolver of the SQL back end over a form's table: a field path's columns."""

    def __init__(self, form: FormDef, table: sa.Table, tables: AppTables, related: bool = True):
        self.form, self.table, self.tables, self.related = form, table, tables, related
        self.app, self.types = tables.app, tables.types

    def __call__(self, path: tuple[str, ...]) -> SqlField | None:
        if len(path) == 1 and self.form.field(path[0]) is None:
            fdef = system_field(path[0])
            return None if fdef is None else sql_field(field_type(fdef), self.table)
        if not self.related:
            if len(path) == 1:
                return sql_field(self.types.of(self.form.field(path[0])), self.table)
            raise NotTranslatable(f"reads '{'.'.join(path)}' through a relation, which this filter "
                                  "cannot reach here")
        resolved = resolve(self.app, self.form, path)
        if isinstance(resolved, PathFailure) or resolved.array or resolved.subform is not None:
            return None
        final = self.types.of(resolved.field)
        if not resolved.hops:
            return sql_field(final, self.table)
        found = sql_field(final, self.tables.form_table(resolved.form).alias())
        if found is None:
            return None
        hops = resolved.relation_hops
        value = self._through(hops, lambda alias: alias.c[final.column_name])
        error = None
        if found.error is not None:
            error = self._through(hops, lambda alias: alias.c[final.error_column])
        return dataclasses.replace(found, value=value, error=error)

    def _through(self, hops, column_of) -> Any:
        """A correlated scalar subquery walking single relations to a column."""
        source, form = self.table, self.form
        record_id = source.c[self.types.of(form.field(hops[0].field)).column_name]
        for index, hop in enumerate(hops):
            alias = self.tables.form_table(hop.target).alias()
            if index == len(hops) - 1:
                picked = column_of(alias)
            else:
                next_relation = self.app.require_form(hop.target).field(hops[index + 1].field)
                picked = alias.c[self.types.of(next_relation).column_name]
            record_id = sa.select(picked).where(alias.c.id == record_id) \
                .correlate_except(alias).scalar_subquery()
        return record_id


def sql_field(ftype: FieldType, source) -> SqlField | None:
    """How a field's column holds its formula value, or None when a formula cannot read
    it from one column (lists, composite values, subforms)."""
    kind = ftype.formula_type
    if ftype.storage != "column" or kind not in ("number", "text", "boolean", "date", "datetime"):
        return None
    stored = ftype.sa_type()
    column = source.c[ftype.column_name]
    error_column = getattr(ftype, "error_column", None)
    error = source.c[error_column] if error_column else None
    if kind == "number":
        return _number_field(ftype, stored, column, error)
    if kind == "text" and isinstance(stored, sa.String):
        length = getattr(ftype, "max_length", None) or stored.length or MAX_TEXT
        return SqlField("text", column, error, max_len=min(int(length), MAX_TEXT))
    if kind == "boolean" and isinstance(stored, sa.Boolean):
        return SqlField("boolean", column, error)
    if kind == "date" and isinstance(stored, sa.Date) and not isinstance(stored, sa.DateTime):
        return SqlField("date", column, error)
    if kind == "datetime" and isinstance(stored, UTCDateTime):
        return SqlField("datetime", column, error)
    return None


def _number_field(ftype: FieldType, stored, column, error) -> SqlField | None:
    if isinstance(stored, ExactDecimal):
        int_digits = _bounded_digits(getattr(ftype, "low", None), getattr(ftype, "high", None),
                                     MAX_DIGITS - stored.scale)
        return SqlField("number", column, error, scale=stored.scale, int_digits=int_digits)
    if isinstance(stored, sa.Integer):
        top = getattr(ftype, "max", None)
        int_digits = len(str(abs(int(top)))) if isinstance(top, int) else _ID_DIGITS
        return SqlField("number", column, error, scale=0, int_digits=int_digits)
    return None


def _bounded_digits(low, high, default: int) -> int:
    """Digits before the point of a number between `low` and `high` (the field's min/max)."""
    if low is None or high is None:
        return default
    largest = max(abs(low), abs(high))
    return min(len(str(int(largest))), default)

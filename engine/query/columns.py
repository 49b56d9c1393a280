"""Where a read finds a field's values in SQL: its stored column, or, for a formula field
that reads the clock, the formula itself, computed by the database with the reader's clock.

A formula field is computed on write and stored (engine/upkeep/upkeep.py). A formula
calling TODAY() or NOW() ("days since the last follow-up") is stale the next day, so a
read computes it again, in the same statement, from the SQL back end's translation
(engine/formula/sql.py) with TODAY() and NOW() taken from the reader's clock in the
workspace time zone (bound as parameters, never the database clock):

    columns = read_columns(app, form, table, ctx)      # app: the compiled App
    columns.c.days_since_followup        # SQL giving today's value, typed as the stored column
    columns.c.days_since_followup__error

The expressions give what the stored columns would hold if the field were computed now:
the same SQL type and representation (a number rounded to the field's decimal places,
a scaled integer on SQLite), NULL with the error code beside it for an error value,
empty for empty text. So the field types' filter, sort and search SQL, page cursors and
row decoding work on them unchanged, and a page stays one statement.

Which fields are read live (`live_plan`): formula fields calling TODAY() or NOW(), and
formula fields reading such fields of the same record, when the formula translates to
SQL on both databases and gives the field's result type as it is (a number for a number
field...). The others stay as stored, refreshed by `formwork recompute APP --volatile`:
formulas that cannot run in the database, and what reads a clock-dependent value
through a relation or a rollup. `LivePlan.stored` says why, field by field. A joined
relation's lookups of live fields are computed when read too (`ReadColumns.related`).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import visitors
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.sql.expression import ColumnElement

from engine.computed.env import AppEnv
from engine.computed.graph import ComputedGraph, Node as GraphNode
from engine.definition.model import AppDef, FormDef
from engine.dialect import DIALECTS, Dialect
from engine.fields.base import ValueContext
from engine.fields.computed import FormulaField
from engine.fields.number import MAX_DIGITS
from engine.formula import EvalContext, check
from engine.formula.nodes import Call, FieldRef, Formula, Node, Text, map_tree
from engine.formula.sql import NotTranslatable, SqlField, SqlFormula, translate
from engine.query.formula_filter import FormFields
from engine.query.tables import AppTables

BLANK = ("_blank_",)          # a path no field key can have (keys start with a letter)
# Arguments of these functions that are the function's value as they are, so an empty
# text there is stored as empty: IF(ISBLANK(x), "", DAYS(...)) gives a number or empty.
_PASSED_THROUGH = {"IF": lambda n: range(1, n), "IFS": lambda n: range(1, n, 2),
                   "IFERROR": lambda n: range(n), "IFNA": lambda n: range(n)}
_CACHED_CLOCKS = 64           # translations kept per form: (clock, table or alias) pairs


@dataclass(frozen=True)
class LiveField:
    """A formula field computed when read: its typed formula, ready to translate."""

    key: str
    ftype: FormulaField
    formula: Formula
    by_moment: bool           # calls NOW(): the value changes with every read, not daily


@dataclass
class LivePlan:
    """The fields of one form computed when read (in the order they read each other), and
    the clock-dependent fields read from their stored column, with the reason."""

    live: list[LiveField] = field(default_factory=list)
    stored: dict[str, str] = field(default_factory=dict)
    translations: dict[Any, dict[str, ColumnElement]] = field(default_factory=dict)


class ReadColumns:
    """A form table as reads see it: `.c[name]` is the table's column, or the live SQL of
    a clock-dependent formula field; anything else is the table's."""

    def __init__(self, table: sa.Table, overrides: dict[str, ColumnElement], reader=None):
        self.table, self.overrides, self._reader = table, overrides, reader
        self.c = _Columns(table.c, overrides)

    def related(self, form: FormDef, alias) -> dict[str, ColumnElement]:
        """Column name -> live SQL of `form`'s fields read through `alias` of its table
        (a joined relation's lookups), with the same clock."""
        if self._reader is None:
            return {}
        app, ctx = self._reader
        plan = app.live_plan(form.key)
        return _translations(app.tables, form, alias, plan, ctx) if plan.live else {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.table, name)


class _Columns:
    def __init__(self, columns, overrides: dict[str, ColumnElement]):
        self._columns, self._overrides = columns, overrides

    def __getitem__(self, name: str) -> Any:
        found = self._overrides.get(name)
        return found if found is not None else self._columns[name]

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __contains__(self, name: str) -> bool:
        return name in self._columns

    def __iter__(self):
        return (self[c.name] for c in self._columns)


def read_columns(app, form: FormDef, table: sa.Table, ctx: ValueContext) -> sa.Table | ReadColumns:
    """The columns a read of `form` uses, with the clock of `ctx` (`.related(...)` gives
    those of related forms); the table itself when no form of the (compiled) app has a
    field computed when read."""
    if not app.has_live_fields:
        return table
    clock = EvalContext(tz=ctx.tz, now=ctx.current_time())
    plan = app.live_plan(form.key)
    overrides = _translations(app.tables, form, table, plan, clock) if plan.live else {}
    return ReadColumns(table, overrides, (app, clock))


# ---- which fields are live ----------------------------------------------------------------------

def build_live_plan(app: AppDef, tables: AppTables, graph: ComputedGraph, form: FormDef) -> LivePlan:
    """Which clock-dependent formula fields of `form` are computed when read (compile_app
    builds it once per app version and form)."""
    plan = LivePlan()
    table = tables.form_table(form.key)
    for node in graph.order:
        if node.form != form.key or node not in graph.volatile or node not in graph.formulas:
            continue
        live, reason = _live_field(app, tables.types, form, graph, node, plan)
        if live is None:
            plan.stored[node.field] = reason
            continue
        try:   # on both databases; the clock does not change what translates
            _field_sql(tables, form, table, live, EvalContext())
        except NotTranslatable as refusal:
            plan.stored[node.field] = f"its formula cannot run in the database: it {refusal.reason}"
            continue
        plan.live.append(live)
    return plan


def _live_field(app, types, form, graph, node: GraphNode, plan: LivePlan) -> tuple[LiveField | None, str]:
    spec = graph.formulas[node]
    ftype = types.of(spec.fdef)
    if not isinstance(ftype, FormulaField):
        return None, "it is not a formula field"
    live_keys = {live.key for live in plan.live}
    for path in spec.paths:
        read = GraphNode(path.form, path.field.key)
        if read in graph.volatile and (path.hops or read.field not in live_keys):
            return None, (f"it reads {'.'.join(path.written)}, whose value changes with the date "
                          "and is read here from its stored column")
    checked = check(spec.formula, AppEnv(app, form, types=types))
    if checked.problems:
        return None, "its formula has problems: " + "; ".join(p.message for p in checked.problems[:2])
    formula = dataclasses.replace(spec.formula, tree=_blank_results(checked.tree, ftype.result))
    return LiveField(node.field, ftype, formula, "NOW" in spec.formula.functions), ""


def _blank_results(tree: Node, result: str) -> Node:
    """The tree with each empty text that is the formula's value as it is made a blank:
    a field stores both as empty, and a blank takes the kind of the other branches in
    SQL, where "" beside a number cannot be written."""
    passed: set[int] = {id(tree)}
    for node in tree.walk():
        if id(node) in passed and isinstance(node, Call) and node.name in _PASSED_THROUGH:
            passed.update(id(node.args[i]) for i in _PASSED_THROUGH[node.name](len(node.args)))

    def visit(node: Node, children: tuple[Node, ...]) -> Node:
        if id(node) in passed and isinstance(node, Text) and node.value == "":
            return FieldRef(node.start, node.end, node.line, node.column, BLANK, type=result)
        return node.with_children(children) if children else node
    return map_tree(tree, visit)


# ---- the SQL of a live field ------------------------------------------------------------------

def _translations(tables, form, table, plan: LivePlan, ctx: EvalContext) -> dict[str, ColumnElement]:
    """Column name -> live SQL for every live field over `table` (the form's table or an
    alias of it), for the clock of `ctx` (kept per day, or per moment for NOW(), since
    TODAY() is a parameter of the SQL). The table itself is part of the key: SQL over one
    alias cannot stand in a statement for another."""
    day = ctx.now.astimezone(ctx.tz).date()
    clock = (ctx.tz.key, ctx.now if any(f.by_moment for f in plan.live) else day, table)
    found = plan.translations.get(clock)
    if found is None:
        if len(plan.translations) >= _CACHED_CLOCKS:
            plan.translations.clear()
        found = {}
        for live in plan.live:      # in order: a live field reads the ones before it live
            found.update(_field_sql(tables, form, ReadColumns(table, found), live, ctx))
        plan.translations[clock] = found
    return found


def _field_sql(tables, form, columns: sa.Table | ReadColumns, live: LiveField,
               ctx: EvalContext) -> dict[str, ColumnElement]:
    """{value column: SQL, error column: SQL} of one live field, for both databases;
    raises NotTranslatable."""
    ftype = live.ftype
    resolver = _Resolver(FormFields(form, columns, tables), ftype.result)
    values, errors = {}, {}
    for dialect in DIALECTS:
        sql = translate(live.formula, resolver, dialect, ctx)
        values[dialect], errors[dialect] = _as_stored(sql, ftype, dialect)
    return {ftype.column_name: ByDialect(values, ftype.sa_type()),
            ftype.error_column: ByDialect(errors, sa.String(10))}


class _Resolver:
    """The form's fields, and the blank that stands for an empty text result."""

    def __init__(self, fields: FormFields, result: str):
        self.fields, self.result = fields, result

    def __call__(self, path):
        if path == BLANK:
            return SqlField(self.result, sa.null())
        return self.fields(path)


def _as_stored(sql: SqlFormula, ftype: FormulaField, dialect: Dialect) -> tuple[Any, Any]:
    """(value, error) SQL holding what the field's columns hold: the value converted to
    the stored representation, NULL where there is an error code."""
    kind, result = sql.kind, ftype.result
    if kind not in (result, "blank", "error"):
        raise NotTranslatable(f"gives {kind} where the field stores {result}; the value would "
                              f"need converting, which is done only when it is stored")
    error = sql.error
    if kind in ("blank", "error"):
        return sa.null(), (error if error is not None else sa.null())
    value, fits = sql.value, None
    if result == "number":
        value, fits = _stored_number(sql, ftype.value_type.precision, dialect)
    elif result == "text":
        value = sa.func.nullif(value, "")
    stored = [c for c in (None if error is None else error.is_(None), fits) if c is not None]
    if stored:
        value = sa.case((sa.and_(*stored), value), else_=sa.null())
    if fits is not None:      # the stored path refuses more digits than a number field holds
        too_large = sa.literal("#NUM!", sa.String(10))
        error = sa.case((error.is_not(None), error), (sa.not_(fits), too_large), else_=sa.null()) \
            if error is not None else sa.case((sa.not_(fits), too_large), else_=sa.null())
    return value, (error if error is not None else sa.null())


def _stored_number(sql: SqlFormula, places: int, dialect: Dialect) -> tuple[Any, Any]:
    """The number rounded to the field's places (half away from zero, as the stored value
    is), as the column holds it, and the condition that it fits the column."""
    value = sql.value
    if not dialect.scaled_numbers:
        rounded = sa.func.round(value, places)
        return rounded, sa.func.abs(rounded) < sa.literal(10 ** (MAX_DIGITS - places), sa.Numeric())
    if _computed_in_python(value):
        raise NotTranslatable("gives a number SQLite cannot compute exactly in SQL (a quotient, "
                              "or a value past 18 digits)")
    scale = sql.scale or 0
    if scale < places:
        value = value * sa.literal(10 ** (places - scale), sa.Integer())
    elif scale > places:
        cut = 10 ** (scale - places)
        half = sa.literal(cut // 2, sa.Integer())
        value = (value + sa.case((value < 0, -half), else_=half)) // sa.literal(cut, sa.Integer())
    return value, sa.func.abs(value) < sa.literal(10 ** MAX_DIGITS, sa.Integer())


def _computed_in_python(expression: Any) -> bool:
    return any(getattr(element, "name", None) in ("fw_eval_value", "fw_eval_error")
               for element in visitors.iterate(expression))


# ---- one expression, written for the statement's database ----------------------------------------

class ByDialect(ColumnElement):
    """SQL translated for each database, the statement's one written when it is compiled;
    typed as the stored column, so values and parameters convert as the column's do."""

    # Cached like any statement part: the cache key is made of both translations, whose
    # parameters (today's date among them) are taken from each new statement.
    _traverse_internals = [("_sql", InternalTraversal.dp_clauseelement_tuple),
                           ("type", InternalTraversal.dp_type)]
    inherit_cache = True

    def __init__(self, variants: dict[Dialect, Any], type_):
        self.variants = variants
        self._sql = tuple(variants[dialect] for dialect in DIALECTS)
        self.type = type_

    def get_children(self, **kw):
        return self._sql


@compiles(ByDialect)
def _by_dialect_sql(element: ByDialect, compiler, **kw) -> str:
    return compiler.process(element.variants[Dialect.of(compiler.dialect)], **kw)

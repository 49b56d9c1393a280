"""The structured filter language, compiled to one SQL condition.

    {"and": [
        {"field": "status", "op": "in", "value": ["won", "signed"]},
        {"or": [{"field": "amount", "op": "gte", "value": 10000},
                {"field": "level", "op": "eq", "value": "vip"}]},
        {"field": "created_at", "op": "last_n_days", "value": 30},
        {"formula": "ROUND(amount * rate%, 2) > credit"}
    ]}

A condition names a field of the form (or a system column: id, created_at,
updated_at, created_by, updated_by, owner_id) and an operator the field's type
supports; the field type turns it into SQL with bound parameters. Errors carry
the path of the bad part ("filter.and[1].or[0].field"). A formula condition is a
formula of the formula language giving TRUE or FALSE (engine/query/formula_filter.py).

The document is parsed once into a tree (engine/computed/filter_tree.py), which says what
is wrong with it and what it reads; this module walks that tree into SQL, raising the
first error it meets, in document order.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from engine.computed.filter_tree import (MAX_CONDITIONS, MAX_DEPTH, FieldTest, FilterError, FilterNode,
                                      FilterTree, FormulaTest, Group, Not, parse_filter, resolve_field)
from engine.definition.model import FormDef
from engine.errors import FieldError
from engine.fields.base import ValueContext
from engine.i18n import render
from engine.query.formula_filter import formula_sql
from engine.query.tables import AppTables

__all__ = ["FilterError", "MAX_CONDITIONS", "MAX_DEPTH", "compile_filter", "resolve_field"]


@dataclass(frozen=True)
class _Scope:
    form: FormDef
    table: Any              # the form's table, an alias of it, or a read's columns
    ctx: ValueContext
    tables: AppTables
    related: bool


def compile_filter(form: FormDef, table: sa.Table, spec: Any, ctx: ValueContext, *, tables: AppTables,
                   path: str = "filter", related: bool = True) -> sa.ColumnElement:
    """One SQL condition for a filter document (None or {} means everything), or for its
    parsed FilterTree, over `table` (the form's table or an alias of it) of the app's
    `tables`; raises FilterError at the bad part. With related=False, formula conditions
    read only the record's own fields (a rollup's filter); a tree says so itself."""
    if isinstance(spec, FilterTree):
        tree = spec
    else:
        tree = parse_filter(spec, form, app=tables.app, types=tables.types, related=related, path=path)
    if tree.root is None:
        return sa.true()
    return _sql(tree.root, _Scope(form, table, ctx, tables, tree.related))


def _sql(node: FilterNode, scope: _Scope) -> sa.ColumnElement:
    if isinstance(node, Group):
        parts = [_sql(item, scope) for item in node.items]
        if not parts:
            return sa.true()
        return sa.and_(*parts) if node.kind == "and" else sa.or_(*parts)
    if isinstance(node, Not):
        return sa.not_(_sql(node.item, scope))
    if isinstance(node, FieldTest):
        return _field_sql(node, scope)
    if isinstance(node, FormulaTest):
        return formula_sql(node, scope.form, scope.table, scope.ctx, scope.tables, scope.related)
    raise node.error()


def _field_sql(test: FieldTest, scope: _Scope) -> sa.ColumnElement:
    ftype = scope.tables.types.of(test.field)
    try:
        return ftype.filter_clause(scope.table, test.op, test.value, scope.ctx)
    except FieldError as exc:
        raise FilterError(f"{test.path}.value", render(exc.code, exc.params, "en")) from None


def source_filter(source: FormDef, spec: Any, tables: AppTables, table: sa.Table | None = None,
                  ctx: ValueContext | None = None) -> sa.ColumnElement:
    """A rollup's filter (the document, or its tree parsed by the graph) as SQL over the
    source table (or an alias of it); raises FilterError (with the path of the bad part)
    when the filter is wrong. Its formula conditions read the source records' own fields."""
    table = table if table is not None else tables.form_table(source.key)
    ctx = ctx or ValueContext(lang="en")
    return compile_filter(source, table, spec, ctx.for_form(tables, source.key), tables=tables, related=False)

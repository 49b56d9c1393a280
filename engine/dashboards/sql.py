"""One SELECT per widget, aggregated by the database (SQLite and PostgreSQL alike):

    query = widget_query(dashboard, widget, controls, WidgetContext(tables, dialect, ...))
    rows = conn.execute(query.statement).all()
    data = query.read(rows)            # JSON-safe, as docs/dashboards.md shows it

- FROM the widget's form, LEFT OUTER JOIN the related forms its paths walk (and the
  users, departments and related records whose names label a dimension);
- WHERE not in the recycle bin, the widget's filter (the filter language), the
  dashboard's controls that name this form, and the reader's row scope (given by the
  runtime: engine code does not know who reads);
- GROUP BY the dimensions (dates bucketed by day, week, month, quarter or year in the
  workspace time zone), the measures as aggregates (count, distinct count, sum, average,
  min, max) and formulas over them translated by the formula language's SQL back end;
- ORDER BY and LIMIT for sort and top N. A KPI aggregates the current and the previous
  period in the same row (CASE inside the aggregates); a pivot gives its cells, row and
  column totals and the grand total in one statement (GROUPING SETS on PostgreSQL, a
  UNION ALL of the four groupings on SQLite, which has none).

Control values: a date range {"from": "2026-01-01", "to": "2026-03-31"} (either end may
be left out) or one of model.RANGE_DEFAULTS; a member's user id; a department's id (its
sub-departments included, through `WidgetContext.subtree`); an option value or a list.
Bad values raise ControlError, which says which control and how to write it.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Callable
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from engine.computed.filter_tree import parse_filter
from engine.dashboards.model import Control, Dashboard, Derived, Measure, Widget
from engine.dashboards.paths import Joins, PathError, Place, locate
from engine.definition.model import FieldDef, FormDef, Label
from engine.dialect import Dialect
from engine.errors import FormworkError
from engine.fields.base import FieldType, ValueContext
from engine.fields.registry import field_type
from engine.formula import check, parse
from engine.formula.nodes import Binary, Boolean, Call, FieldRef, Number, Text
from engine.formula.sql import SqlField, translate
from engine.formula.unparse import unparse
from engine.formula.values import EvalContext, ErrorValue
from engine.query.filters import compile_filter
from engine.query.tables import AppTables
from engine.storage import system
from engine.storage.types import ExactDecimal

NUMBER_KINDS = ("number",)
DATE_KINDS = ("date", "datetime")
GROUPING = "fw_grouping"         # the pivot's grouping column: 0 cell, 1 row total, 2 column total, 3 total
TABLE_LIMIT = 50


class ControlError(FormworkError):
    """A control value that cannot be read; `code` and `params` for the caller's message."""

    def __init__(self, control: str, message: str):
        self.control, self.message = control, message
        super().__init__(f"control {control!r}: {message}")


@dataclass
class WidgetContext:
    tables: AppTables
    dialect: Dialect
    tz: ZoneInfo
    today: date
    lang: str = "zh"
    user_id: int | None = None
    scopes: dict[str, Any] = field(default_factory=dict)    # form key -> row scope over its table
    subtree: Callable[[list[int]], Any] | None = None        # department ids -> ids with those below
    now: datetime | None = None                              # what TODAY() and NOW() in filters read


@dataclass
class WidgetQuery:
    widget: Widget
    statement: Any
    read: Callable[[list], dict]
    forms: frozenset[str]            # the forms whose records the figures come from


# ---- measures, as the validator and the compiler agree on them -------------------------------

class MeasureEnv:
    """The type environment of a formula over aggregates: the widget's other measures by
    key, each a number (engine/formula's FormulaEnv protocol)."""

    def __init__(self, measures: dict[str, Measure]):
        self.measures = measures

    def field_type(self, path: tuple[str, ...]) -> str | None:
        return "number" if len(path) == 1 and path[0] in self.measures else None

    def candidates(self, prefix: tuple[str, ...]) -> list[str]:
        return [] if prefix else list(self.measures)


def measure_formula(measure: Measure, widget: Widget):
    """The parsed, type-checked formula of a formula measure and its check result."""
    formula = parse(measure.formula)
    others = {m.key: m for m in widget.measures if m.key != measure.key and not m.is_formula}
    return formula, check(formula, MeasureEnv(others), expected="number")


def derived_field(tables: AppTables, form: FormDef, derived: Derived) -> tuple[FieldDef, FieldType]:
    """The field a derived value reads as (its key, its label): a whole number for a
    row number, a count and days; the field's own type for the others."""
    label = derived.label or Label(derived.key, derived.key)
    if derived.fn in ("row_number", "count", "days_since_previous"):
        fdef = FieldDef(derived.key, "number", label, derived.path, config={"precision": 0})
        return fdef, field_type(fdef)
    found = locate(tables.app, form, derived.field, tables.types)
    ftype = field_type(found.field) if found.system else tables.types.of(found.field)
    return dataclasses.replace(found.field, key=derived.key, label=label), ftype


# ---- the statement ----------------------------------------------------------------------------

def widget_query(dashboard: Dashboard, widget: Widget, controls: dict[str, Any], ctx: WidgetContext
                 ) -> WidgetQuery:
    return _Builder(dashboard, widget, controls, ctx).build()


class _Builder:
    def __init__(self, dashboard: Dashboard, widget: Widget, controls: dict[str, Any], ctx: WidgetContext):
        self.dashboard, self.widget, self.controls, self.ctx = dashboard, widget, controls, ctx
        self.tables = ctx.tables
        self.form = self.tables.app.require_form(widget.form)
        self.dates = _Dates(ctx.dialect, ctx.tz)
        self.value_ctx = ValueContext(lang=ctx.lang, tz=ctx.tz, user_id=ctx.user_id, now=ctx.now).for_form(
            self.tables, self.form.key)
        base = self.tables.form_table(widget.form)
        # With derived values the widget reads a subquery of the records the reader may see
        # with one more column per value (a window function); the rest reads it as the table.
        self.table = self._derived_source(base) if widget.derived else base
        self.joins = Joins(self.tables, self.form, self.table)

    def build(self) -> WidgetQuery:
        where = [self.table.c.deleted_at.is_(None), self._filter()]
        scope = self.ctx.scopes.get(self.form.key)
        if scope is not None and not self.widget.derived:      # else applied inside the subquery
            where.append(scope)
        period = None
        for control in self.dashboard.controls:
            if control.kind == "date_range" and self.widget.kind == "kpi" and self.widget.compare:
                if self.form.key in control.fields:
                    period = (control, self._range(control))
                    continue
            condition = self._control(control)
            if condition is not None:
                where.append(condition)
        kind = self.widget.kind
        if kind == "table":
            statement, read = self._table(where)
        elif kind == "kpi":
            statement, read = self._kpi(where, period)
        elif kind == "pivot":
            statement, read = self._pivot(where)
        else:
            statement, read = self._grouped(where)
        return WidgetQuery(self.widget, statement, read, frozenset(self.joins.forms))

    # ---- derived values ---------------------------------------------------------------------
    def _derived_source(self, base: sa.Table):
        where = [base.c.deleted_at.is_(None)]
        scope = self.ctx.scopes.get(self.form.key)
        if scope is not None:
            where.append(scope)
        values = [self._window(base, d).label(f"dv_{d.key}") for d in self.widget.derived]
        return sa.select(*base.c, *values).where(*where).subquery("w")

    def _own(self, base: sa.Table, path: str) -> tuple[Any, Any, FieldDef]:
        """A field of the widget's own form (no relation walked): column, type, definition."""
        found = locate(self.tables.app, self.form, path, self.tables.types)
        if found.hops:
            raise PathError(f"{path!r}: a derived value reads the form's own fields; name one without a dot")
        ftype = field_type(found.field) if found.system else self.tables.types.of(found.field)
        if ftype.storage != "column":
            raise PathError(f"{path!r} ({found.field.type}) has no single value stored with the record")
        return base.c[ftype.column_name], ftype, found.field

    def _window(self, base: sa.Table, derived: Derived):
        partition = [self._own(base, p)[0] for p in derived.partition]
        order = [self._own(base, o.by)[0] for o in derived.order]
        order = [c.desc() if o.desc else c.asc() for c, o in zip(order, derived.order)] + [base.c.id.asc()]
        column = self._own(base, derived.field)[0] if derived.field else None
        fn = derived.fn
        if fn == "row_number":
            return sa.func.row_number().over(partition_by=partition or None, order_by=order)
        if fn == "count":
            return sa.func.count(base.c.id).over(partition_by=partition or None)
        if fn in ("sum", "min", "max"):
            return getattr(sa.func, fn)(column).over(partition_by=partition or None)
        if fn in ("previous", "next"):
            return getattr(sa.func, "lag" if fn == "previous" else "lead")(column).over(
                partition_by=partition or None, order_by=order)
        before = sa.func.lag(column).over(partition_by=partition or None, order_by=order)
        if self.ctx.dialect.dates_as_text:
            return sa.cast(sa.func.julianday(column) - sa.func.julianday(before), sa.Integer)
        return sa.cast(column - before, sa.Integer)

    def _place(self, path: str) -> Place:
        """A path of the form, or the key of one of the widget's derived values."""
        derived = self.widget.derived_value(path)
        if derived is None:
            return self.joins.place(path)
        fdef, ftype = derived_field(self.tables, self.form, derived)
        return Place(path, fdef, ftype, self.table.c[f"dv_{derived.key}"], self.table, self.form)

    def _filter(self):
        tree = parse_filter(self.widget.filter, self.form, app=self.tables.app, types=self.tables.types,
                            path=f"{self.widget.path}.filter")
        return compile_filter(self.form, self.table, tree, self.value_ctx, tables=self.tables)

    # ---- controls ---------------------------------------------------------------------------
    def _control(self, control: Control):
        path = control.fields.get(self.form.key)
        value = self.controls.get(control.key)
        if path is None:
            return None
        if control.kind == "date_range":
            start, end = self._range(control)
            if start is None and end is None:
                return None
            return self._between(self.joins.place(path), start, end)
        if value is None or value == "" or value == []:
            return None
        place = self.joins.place(path)
        if control.kind == "member":
            return place.column == _int(control, value)
        if control.kind == "department":
            ids = self.ctx.subtree([_int(control, value)]) if self.ctx.subtree else [_int(control, value)]
            if place.field.type == "department":
                return place.column.in_(ids)
            dm = system.department_members
            return place.column.in_(sa.select(dm.c.user_id).where(dm.c.department_id.in_(ids)))
        values = value if isinstance(value, list) else [value]
        options = getattr(place.ftype, "options", None)
        if options is not None:
            unknown = [v for v in values if str(v) not in options.values]
            if unknown:
                raise ControlError(control.key, f"{unknown[0]!r} is not an option; the options are "
                                   f"{', '.join(options.values)}")
        return place.column.in_([str(v) for v in values])

    def _range(self, control: Control) -> tuple[date | None, date | None]:
        value = self.controls.get(control.key, control.default)
        if value in (None, "", {}):
            return None, None
        return date_range(control.key, value, self.ctx.today)

    def _between(self, place: Place, start: date | None, end: date | None):
        parts = []
        if place.ftype.formula_type == "datetime":
            column = place.column
            if start is not None:
                parts.append(column >= _moment(start, self.ctx.tz))
            if end is not None:
                parts.append(column < _moment(end + timedelta(days=1), self.ctx.tz))
        else:
            column = place.column
            if start is not None:
                parts.append(column >= self.dates.literal(start))
            if end is not None:
                parts.append(column <= self.dates.literal(end))
        return sa.and_(*parts)

    # ---- dimensions -------------------------------------------------------------------------
    def _dimension(self, dim) -> "_Dim":
        place = self._place(dim.field)
        kind = place.ftype.formula_type
        if dim.bucket is not None:
            local = self.dates.local_date(place.column) if kind == "datetime" else self.dates.as_date(place.column)
            expr = self.dates.bucket(local, dim.bucket)
            return _Dim(dim, place, expr, None, lambda v: v)
        label = None
        name = place.field.type
        if name in ("member", "department"):
            named = self.joins.alias_of(system.users if name == "member" else system.departments, "n")
            self.joins.outer_join(named, named.c.id == place.column)
            label = named.c.name
        elif name == "relation":
            target = self.tables.app.require_form(place.field.option("target"))
            title = target.title_field and target.field(target.title_field)
            if title is not None and self.tables.types.of(title).storage == "column":
                related = self.joins.alias_of(self.tables.form_table(target.key), "r")
                self.joins.outer_join(related, related.c.id == place.column)
                label = related.c[self.tables.types.of(title).column_name]
        decode = _json_of(place)
        derived = self.widget.derived_value(dim.field)
        if derived is not None and derived.fn in ("row_number", "count", "days_since_previous"):
            decode = lambda v: None if v is None else int(v)          # noqa: E731  a whole number
        return _Dim(dim, place, place.column, label, decode)

    # ---- measures ---------------------------------------------------------------------------
    def _aggregates(self, when=None, groups: list | None = None) -> list[tuple[Measure, list, Callable]]:
        """Each measure's selected expressions and how to read them from a row's values;
        `groups` are the grouping expressions (a window's ties are ordered by them)."""
        out, plain, exprs_of = [], {}, {}
        for measure in self.widget.measures:
            if measure.is_formula or measure.is_window:
                continue
            exprs, reader, as_field = self._aggregate(measure, when)
            plain[measure.key] = as_field
            exprs_of[measure.key] = exprs
            out.append((measure, exprs, reader))
        for measure in self.widget.measures:
            if measure.is_window:
                of = exprs_of[measure.of][0]
                first = of.desc().nulls_last() if measure.desc else of.asc().nulls_first()
                fn = sa.func.ntile(measure.buckets or 5) if measure.window == "ntile" else sa.func.rank()
                expr = fn.over(order_by=[first, *(groups or [])])
                plain[measure.key] = SqlField("number", expr, scale=0)
                out.append((measure, [expr], lambda vs: None if vs[0] is None else int(vs[0])))
        for measure in self.widget.measures:
            if measure.is_formula:
                formula, result = measure_formula(measure, self.widget)
                typed = dataclasses.replace(formula, tree=result.tree)
                sql = translate(typed, lambda p: plain.get(p[0]) if len(p) == 1 else None, self.ctx.dialect,
                                EvalContext(tz=self.ctx.tz))
                exprs = [sql.value, sql.error_or_null()]
                out.append((measure, exprs, lambda vs, sql=sql: _json_number(sql.decode(vs[0], vs[1]))))
        return out

    def _aggregate(self, measure: Measure, when):
        if measure.filter is not None:
            tree = parse_filter(measure.filter, self.form, app=self.tables.app, types=self.tables.types,
                                path=f"{measure.path}.filter")
            own = compile_filter(self.form, self.table, tree, self.value_ctx, tables=self.tables)
            when = own if when is None else sa.and_(when, own)

        def gated(expr):
            return expr if when is None else sa.case((when, expr))
        if measure.agg == "count":
            # COUNT(id), not COUNT(*): a formula over it may nest it in a scalar subquery
            # (exact rounding), where an aggregate of no outer column would count that
            # subquery's one row instead of the group's.
            expr = sa.func.count(self.table.c.id) if when is None else sa.func.count(sa.case((when, 1)))
            return [expr], lambda vs: int(vs[0] or 0), SqlField("number", expr, scale=0)
        place = self._place(measure.field)
        column = place.column
        if measure.agg == "distinct_count":
            expr = sa.func.count(sa.distinct(gated(column)))
            return [expr], lambda vs: int(vs[0] or 0), SqlField("number", expr, scale=0)
        stored = place.ftype.sa_type()
        scale = stored.scale if isinstance(stored, ExactDecimal) else 0
        is_number = place.ftype.formula_type == "number"
        if measure.agg == "avg":
            total = sa.type_coerce(sa.func.sum(gated(column)), stored)
            count = sa.func.count(gated(column))
            return [total, count], lambda vs: _average(vs[0], vs[1], scale), None
        expr = sa.type_coerce(getattr(sa.func, measure.agg)(gated(column)), stored)
        raw = getattr(sa.func, measure.agg)(gated(column))
        as_field = SqlField("number", raw, scale=scale) if is_number else None
        reader = (lambda vs: _json_number(vs[0])) if is_number else _json_of(place, single=True)
        return [expr], reader, as_field

    # ---- kinds ------------------------------------------------------------------------------
    def _grouped(self, where):
        dims = [self._dimension(d) for d in self.widget.dimensions]
        aggs = self._aggregates(groups=[d.expr for d in dims])
        columns, group = [], []
        for i, dim in enumerate(dims):
            columns.append(dim.expr.label(f"d{i}"))
            group.append(dim.expr)
            if dim.label is not None:
                columns.append(dim.label.label(f"l{i}"))
                group.append(dim.label)
        slots = []
        for j, (measure, exprs, reader) in enumerate(aggs):
            names = [f"m{j}_{k}" for k in range(len(exprs))]
            columns.extend(e.label(n) for e, n in zip(exprs, names))
            slots.append((measure, names, reader))
        statement = sa.select(*columns).select_from(self.joins.from_clause()).where(*where)
        if group:
            statement = statement.group_by(*group)
        statement = statement.order_by(*self._order(dims, aggs))
        limit = self.widget.limit or (10 if self.widget.kind == "leaderboard" else None)
        if limit:
            statement = statement.limit(limit)

        def read(rows) -> dict:
            out = []
            for row in rows:
                m = row._mapping
                keys = [dim.decode(m[f"d{i}"]) for i, dim in enumerate(dims)]
                labels = [dim.text(m[f"d{i}"], m.get(f"l{i}"), self.ctx.lang) for i, dim in enumerate(dims)]
                values = {measure.key: reader([m[n] for n in names]) for measure, names, reader in slots}
                out.append({"keys": keys, "labels": labels, "values": values,
                            "filter": drill_filter(self.widget, dims, keys)})
            data = {"dimensions": [d.head(self.ctx.lang) for d in dims],
                    "measures": self._heads(), "rows": out}
            if self.widget.kind == "leaderboard":
                for rank, row in enumerate(out, 1):
                    row["rank"] = rank
            if self.widget.kind == "funnel" and self.widget.measures:
                first = self.widget.measures[0].key
                previous = None
                for row in out:
                    value = _to_decimal(row["values"][first])
                    row["conversion"] = None if previous in (None, 0) or value is None else \
                        _json_number((value / previous).quantize(Decimal("0.0001"), ROUND_HALF_UP))
                    previous = value
            return data
        return statement, read

    def _order(self, dims, aggs) -> list:
        order = []
        exprs = {measure.key: exprs for measure, exprs, _ in aggs}
        for item in self.widget.sort:
            if item.by in exprs:
                parts = exprs[item.by]
                expr = parts[0] if len(parts) != 2 or self.widget.measure(item.by).agg != "avg" else \
                    sa.cast(parts[0], sa.Float) / sa.func.nullif(parts[1], 0)
            elif dims and item.by in ("dimension", dims[0].dim.field):
                expr = dims[0].expr
            else:
                continue
            order.append(_nulls_last(expr.desc() if item.desc else expr.asc(), self.ctx.dialect, item.desc))
        if not order and dims and self.widget.kind == "funnel":
            options = getattr(dims[0].place.ftype, "options", None)
            if options is not None:
                order.append(sa.case({v: i for i, v in enumerate(options.values)}, value=dims[0].expr,
                                     else_=len(options.values)))
        if not order and self.widget.kind == "leaderboard" and aggs:
            order.append(aggs[0][1][0].desc())
        order.extend(d.expr for d in dims)       # a total order: the same answer every time
        return order

    def _heads(self) -> list[dict]:
        return [{"key": m.key, "label": (m.label.get(self.ctx.lang) if m.label else m.key)}
                for m in self.widget.measures]

    def _kpi(self, where, period):
        current = previous = None
        when_cur = when_prev = None
        if period is not None:
            control, (start, end) = period
            if start is not None and end is not None:
                place = self.joins.place(control.fields[self.form.key])
                previous = previous_period(start, end)
                current = (start, end)
                when_cur = self._between(place, *current)
                when_prev = self._between(place, *previous)
                where = [*where, self._between(place, previous[0], end)]
            elif start is not None or end is not None:
                where = [*where, self._between(self.joins.place(control.fields[self.form.key]), start, end)]
        cur = self._aggregates(when_cur)
        prev = self._aggregates(when_prev) if when_prev is not None else []
        columns, slots = [], []
        for tag, aggs in (("c", cur), ("p", prev)):
            for j, (measure, exprs, reader) in enumerate(aggs):
                names = [f"{tag}{j}_{k}" for k in range(len(exprs))]
                columns.extend(e.label(n) for e, n in zip(exprs, names))
                slots.append((tag, measure, names, reader))
        statement = sa.select(*columns).select_from(self.joins.from_clause()).where(*where)

        def read(rows) -> dict:
            m = rows[0]._mapping
            found = {(tag, measure.key): reader([m[n] for n in names]) for tag, measure, names, reader in slots}
            items = []
            for head in self._heads():
                value = found[("c", head["key"])]
                before = found.get(("p", head["key"]))
                items.append({**head, "value": value, "previous": before, "change": _change(value, before)})
            return {"measures": items,
                    "period": _period_json(current), "previous_period": _period_json(previous)}
        return statement, read

    def _pivot(self, where):
        rows_dims = [self._dimension(d) for d in self.widget.dimensions]
        col_dims = [self._dimension(d) for d in self.widget.columns]
        aggs = self._aggregates()
        all_dims = rows_dims + col_dims
        base_cols = []
        for i, dim in enumerate(all_dims):
            base_cols.append((f"d{i}", dim.expr))
            if dim.label is not None:
                base_cols.append((f"l{i}", dim.label))
        agg_cols, slots = [], []
        for j, (measure, exprs, reader) in enumerate(aggs):
            n = [f"m{j}_{k}" for k in range(len(exprs))]
            agg_cols.extend(zip(n, exprs))
            slots.append((measure, n, reader))
        row_n = sum(2 if d.label is not None else 1 for d in rows_dims)
        row_keys, col_keys = base_cols[:row_n], base_cols[row_n:]
        source = self.joins.from_clause()
        if self.ctx.dialect.grouping_sets:
            rk = [e for _, e in row_keys] or [sa.literal(0)]
            ck = [e for _, e in col_keys] or [sa.literal(0)]
            grouping = (sa.case((sa.func.grouping(*rk) > 0, 2), else_=0)
                        + sa.case((sa.func.grouping(*ck) > 0, 1), else_=0))
            statement = sa.select(*[e.label(n) for n, e in base_cols], *[e.label(n) for n, e in agg_cols],
                                  grouping.label(GROUPING)).select_from(source).where(*where).group_by(
                sa.func.grouping_sets(sa.tuple_(*rk, *ck), sa.tuple_(*rk), sa.tuple_(*ck), sa.tuple_()))
        else:
            parts = []
            for flag, keep in ((0, row_keys + col_keys), (1, row_keys), (2, col_keys), (3, [])):
                kept = {n for n, _ in keep}
                cols = [(e if n in kept else sa.null()).label(n) for n, e in base_cols]
                part = sa.select(*cols, *[e.label(n) for n, e in agg_cols], sa.literal(flag).label(GROUPING)) \
                    .select_from(source).where(*where)
                if keep:
                    part = part.group_by(*[e for _, e in keep])
                parts.append(part)
            statement = sa.union_all(*parts)

        def read(rows) -> dict:
            lang = self.ctx.lang
            pivot_rows: dict[tuple, dict] = {}
            columns: dict[tuple, dict] = {}
            column_totals, total = {}, None
            ri = range(len(rows_dims))
            ci = range(len(rows_dims), len(all_dims))
            for row in rows:
                m = row._mapping
                flag = int(m[GROUPING])
                values = {measure.key: reader([m[n] for n in names]) for measure, names, reader in slots}
                rkey = tuple(all_dims[i].decode(m[f"d{i}"]) for i in ri)
                ckey = tuple(all_dims[i].decode(m[f"d{i}"]) for i in ci)
                if flag in (0, 1):
                    entry = pivot_rows.setdefault(rkey, {
                        "keys": list(rkey), "labels": [all_dims[i].text(m[f"d{i}"], m.get(f"l{i}"), lang)
                                                       for i in ri], "cells": {}, "total": None})
                    if flag == 0:
                        entry["cells"][_cell_key(ckey)] = values
                    else:
                        entry["total"] = values
                if flag in (0, 2):
                    columns.setdefault(ckey, {"key": _cell_key(ckey), "keys": list(ckey), "labels": [
                        all_dims[i].text(m[f"d{i}"], m.get(f"l{i}"), lang) for i in ci]})
                    if flag == 2:
                        column_totals[_cell_key(ckey)] = values
                if flag == 3:
                    total = values
            ordered_rows = sorted(pivot_rows.values(), key=lambda r: _sort_key(r["keys"]))
            ordered_cols = sorted(columns.values(), key=lambda c: _sort_key(c["keys"]))
            return {"dimensions": [d.head(lang) for d in rows_dims], "column_dimensions":
                    [d.head(lang) for d in col_dims], "measures": self._heads(), "columns": ordered_cols,
                    "rows": ordered_rows, "column_totals": column_totals, "total": total}
        return statement, read

    def _table(self, where):
        places = [self._place(path) for path in self.widget.fields]
        columns = [self.table.c.id.label("id")] + [p.column.label(f"f{i}") for i, p in enumerate(places)]
        order = []
        for item in self.widget.sort:
            try:
                place = self.joins.place(item.by)
            except PathError:
                continue
            order.append(place.column.desc() if item.desc else place.column.asc())
        order.append(self.table.c.id.desc())
        statement = sa.select(*columns).select_from(self.joins.from_clause()).where(*where) \
            .order_by(*order).limit(self.widget.limit or TABLE_LIMIT)
        readers = [_json_of(p) for p in places]

        def read(rows) -> dict:
            heads = [{"key": p.path, "label": _field_label(p, self.ctx.lang)} for p in places]
            return {"columns": heads, "rows": [
                {"id": row._mapping["id"], "values": {p.path: readers[i](row._mapping[f"f{i}"])
                                                     for i, p in enumerate(places)}} for row in rows]}
        return statement, read


# ---- drill-down ---------------------------------------------------------------------------------

def drill_filter(widget: Widget, dims: list, keys: list) -> Any:
    """The filter (the filter language) of the widget's form matching the records of one
    group: the widget's own filter and one condition per dimension, for the data table.
    A bucket is the half-open range [its first day, the next bucket's first day), so a
    datetime late on the bucket's last day is in it; a path through relations is a
    formula condition whose text is written by the formula language (unparse), never
    pasted together."""
    parts = [widget.filter] if widget.filter not in (None, {}) else []
    for dim, key in zip(dims, keys):
        path = dim.dim.field
        ref = _n(FieldRef, tuple(path.split(".")))
        if key is None:
            parts.append({"field": path, "op": "empty"} if "." not in path else
                         {"formula": unparse(_n(Call, "ISBLANK", (ref,)))})
        elif dim.dim.bucket is not None:
            start, after = bucket_bounds(dim.dim.bucket, key)
            if "." not in path:
                parts.append({"field": path, "op": "gte", "value": start.isoformat()})
                parts.append({"field": path, "op": "lt", "value": after.isoformat()})
            else:
                parts.append({"formula": unparse(_n(Call, "AND", (
                    _n(Binary, ">=", ref, _date_node(start)), _n(Binary, "<", ref, _date_node(after)))))})
        elif "." not in path:
            parts.append({"field": path, "op": "eq", "value": key})
        else:
            parts.append({"formula": unparse(_n(Binary, "=", ref, _literal_node(key)))})
    return {"and": parts} if parts else None


def _n(kind, *args):
    """A formula node made here, not parsed: it has no place in a text."""
    return kind(0, 0, 1, 1, *args)


def _date_node(day: date):
    return _n(Call, "DATE", tuple(_n(Number, Decimal(part)) for part in (day.year, day.month, day.day)))


def _literal_node(value: Any):
    if isinstance(value, bool):
        return _n(Boolean, value)
    if isinstance(value, (int, Decimal)):
        return _n(Number, Decimal(value))
    if isinstance(value, float):
        return _n(Number, Decimal(repr(value)))
    return _n(Text, str(value))


def bucket_bounds(bucket: str, key: str) -> tuple[date, date]:
    """The first day of a bucket from its text (2026-03, 2026-Q1, 2026-03-02...) and the
    first day of the next one: the bucket is [start, next start)."""
    if bucket in ("day", "week"):
        start = date.fromisoformat(key)
        return start, start + timedelta(days=1 if bucket == "day" else 7)
    if bucket == "year":
        return date(int(key), 1, 1), date(int(key) + 1, 1, 1)
    if bucket == "quarter":
        year, quarter = int(key[:4]), int(key[-1])
        start = date(year, 3 * quarter - 2, 1)
    else:
        start = date(int(key[:4]), int(key[5:7]), 1)
    months = 3 if bucket == "quarter" else 1
    index = start.year * 12 + start.month - 1 + months
    return start, date(index // 12, index % 12 + 1, 1)


# ---- dimensions -------------------------------------------------------------------------------

@dataclass
class _Dim:
    dim: Any
    place: Place
    expr: Any
    label: Any                      # the SQL of the name shown (a member's, a related record's)
    decode: Callable[[Any], Any]

    def head(self, lang: str) -> dict:
        return {"field": self.dim.field, "bucket": self.dim.bucket, "label": _field_label(self.place, lang)}

    def text(self, value: Any, label: Any, lang: str) -> str | None:
        if value is None:
            return None
        if label is not None:
            return str(label)
        options = getattr(self.place.ftype, "options", None)
        if options is not None and self.dim.bucket is None:
            found = options.labels.get(str(value))
            return found.get(lang) if found is not None else str(value)
        decoded = self.decode(value)
        return str(decoded)


def _field_label(place: Place, lang: str) -> str:
    return place.field.label.get(lang) if place.field.label else place.field.key


def _json_of(place: Place, single: bool = False):
    ftype = place.ftype

    def decode(value):
        if value is None:
            return None
        if isinstance(value, Decimal):
            return _json_number(value)
        if isinstance(value, (date, datetime)):
            return value.isoformat()
        return ftype.to_json(value)
    return (lambda vs: decode(vs[0])) if single else decode


# ---- dates ------------------------------------------------------------------------------------

class _Dates:
    """Date buckets and local dates as SQL of one database: the bucket is the text of
    its first day's period (2026-03-02 for a week, 2026-03 for a month, 2026-Q1, 2026)."""

    def __init__(self, dialect: Dialect, tz: ZoneInfo):
        self.dialect, self.tz = dialect, tz

    def literal(self, day: date):
        return sa.literal(day.isoformat(), sa.Text()) if self.dialect.dates_as_text else sa.literal(day, sa.Date())

    def as_date(self, column):
        return sa.type_coerce(column, sa.Text()) if self.dialect.dates_as_text else column

    def local_date(self, moment):
        if self.dialect.dates_as_text:
            return sa.func.substr(sa.func.fw_local_time(moment, sa.literal(self.tz.key, sa.Text())), 1, 10)
        return sa.cast(sa.func.timezone(sa.literal(self.tz.key, sa.Text()), moment), sa.Date())

    def bucket(self, day, bucket: str):
        if self.dialect.dates_as_text:          # ISO text: substrings and SQLite's date()
            if bucket == "day":
                return day
            if bucket == "week":
                return sa.func.date(day, sa.literal("-") + sa.cast(
                    (sa.cast(sa.func.strftime("%w", day), sa.Integer) + 6) % 7, sa.Text) + sa.literal(" days"))
            if bucket == "month":
                return sa.func.substr(day, 1, 7)
            if bucket == "year":
                return sa.func.substr(day, 1, 4)
            quarter = (sa.cast(sa.func.substr(day, 6, 2), sa.Integer) + 2) // 3
            return sa.func.substr(day, 1, 4) + sa.literal("-Q") + sa.cast(quarter, sa.Text)
        formats = {"day": "YYYY-MM-DD", "month": "YYYY-MM", "year": "YYYY", "quarter": 'YYYY-"Q"Q'}
        if bucket == "week":
            return sa.func.to_char(sa.func.date_trunc("week", day), sa.literal("YYYY-MM-DD", sa.Text()))
        return sa.func.to_char(day, sa.literal(formats[bucket], sa.Text()))


def date_range(key: str, value: Any, today: date) -> tuple[date | None, date | None]:
    """The first and last day of a date range control's value."""
    if isinstance(value, str) and ".." in value:
        start, _, end = value.partition("..")
        value = {"from": start or None, "to": end or None}
    if isinstance(value, str):
        return _named_range(key, value, today)
    if not isinstance(value, dict) or set(value) - {"from", "to"}:
        raise ControlError(key, "a date range is {\"from\": \"2026-01-01\", \"to\": \"2026-03-31\"}, "
                           "FROM..TO, or a name like this_month")
    start, end = (_day(key, value.get(k)) for k in ("from", "to"))
    if start is not None and end is not None and end < start:
        raise ControlError(key, f"the range ends ({end}) before it starts ({start}); swap them")
    return start, end


def previous_period(start: date, end: date) -> tuple[date, date]:
    """The period a KPI compares with: as many whole months before, when the range is whole
    months (a quarter against the quarter before, March against February); else as many
    days before."""
    if start.day == 1 and (end + timedelta(days=1)).day == 1:
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        index = start.year * 12 + start.month - 1 - months
        return date(index // 12, index % 12 + 1, 1), start - timedelta(days=1)
    length = (end - start).days + 1
    return start - timedelta(days=length), start - timedelta(days=1)


def _named_range(key: str, name: str, today: date) -> tuple[date, date]:
    if name.startswith("last_") and name.endswith("_days") and name[5:-5].isdigit():
        return today - timedelta(days=int(name[5:-5]) - 1), today
    if name == "today":
        return today, today
    if name == "this_week":
        start = today - timedelta(days=today.weekday())
        return start, start + timedelta(days=6)
    if name == "this_month":
        start = today.replace(day=1)
        return start, (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    if name == "this_quarter":
        start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        return start, (start + timedelta(days=95)).replace(day=1) - timedelta(days=1)
    if name == "this_year":
        return date(today.year, 1, 1), date(today.year, 12, 31)
    raise ControlError(key, f"unknown range {name!r}; write FROM..TO (2026-01-01..2026-03-31) or one of "
                       "today, this_week, this_month, this_quarter, this_year, last_N_days")


def _day(key: str, raw: Any) -> date | None:
    if raw in (None, ""):
        return None
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise ControlError(key, f"{raw!r} is not a date; write it as YYYY-MM-DD, like 2026-03-31") from None


def _moment(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tz)


def _period_json(period) -> dict | None:
    return None if period is None else {"from": period[0].isoformat(), "to": period[1].isoformat()}


# ---- numbers ----------------------------------------------------------------------------------

def _int(control: Control, value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ControlError(control.key, f"{value!r} is not an id; give the {control.kind}'s number") from None


def _to_decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, dict):
        return None
    return Decimal(str(value))


def _json_number(value: Any) -> Any:
    """Counts as integers, exact amounts as text ("1234.50"), as the API writes numbers;
    an error value as {"error": "#DIV/0!"}."""
    if value is None:
        return None
    if isinstance(value, ErrorValue):
        return {"error": value.code}
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        value = Decimal(repr(value))
    if isinstance(value, Decimal):
        return str(value)
    return value


def _average(total: Any, count: Any, scale: int) -> Any:
    if not count or total is None:
        return None
    quantum = Decimal(1).scaleb(-(scale + 2))
    return str((Decimal(str(total)) / Decimal(count)).quantize(quantum, ROUND_HALF_UP))


def _change(value: Any, before: Any) -> Any:
    now, then = _to_decimal(value), _to_decimal(before)
    if now is None or then is None or then == 0:
        return None
    return str(((now - then) / abs(then)).quantize(Decimal("0.0001"), ROUND_HALF_UP))


def _nulls_last(expr, dialect: Dialect, desc: bool):
    """Groups without a value after the others, whichever way the sort goes."""
    return expr.nulls_last()


def _cell_key(keys: tuple) -> str:
    return "|".join("" if k is None else str(k) for k in keys)


def _sort_key(keys: list) -> tuple:
    return tuple((k is None, str(k) if k is not None else "") for k in keys)

"""Checks of meaning of the definition's dashboards (engine/dashboards): keys unique, every
form, field and relation path exists (with a did-you-mean), measures and dimensions fit
the field's type (a sum needs a number, a bucket a date), formulas over aggregates
type-check against the widget's other measures and point into their text on an error,
sorts name a measure or the dimension, each widget kind has what it needs, controls name
fields of the right type. Then each widget that passed those is compiled once into its
SQL statement (engine/dashboards/sql.py, for SQLite, with no database): what only the
field types' SQL or the formula language's SQL back end can tell (a filter value the
operator cannot take, a formula the database cannot run) is reported at the widget's
part, with its line and column, instead of when the dashboard is first opened.

The JSON Schema has checked the shape; these checks read the model defensively, as the
other semantic checks do.
"""
from __future__ import annotations

from datetime import date
from typing import Iterable
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from engine.computed.filter_tree import parse_filter
from engine.dashboards.model import (
    BUCKETS, DERIVED_FNS, DERIVED_NEEDS_FIELD, DERIVED_NEEDS_ORDER, RANGE_DEFAULTS, WINDOWS, Control, Dashboard,
    Widget, dashboards_of,
)
from engine.dashboards.paths import PathError, locate
from engine.dashboards.sql import WidgetContext, derived_field, measure_formula, widget_query
from engine.dialect import Dialect
from engine.definition.model import FormDef
from engine.errors import FormworkError, Problem
from engine.fields.registry import field_type
from engine.formula import FormulaSyntaxError
from engine.suggest import did_you_mean
from engine.validation.checks import AppFacts, FormulaDefinitionProblem

NUMBER_AGGREGATES = ("sum", "avg")
ORDERED_AGGREGATES = ("min", "max")
CONTROL_TYPES = {"date_range": ("date", "datetime"), "member": ("member",), "department": ("department", "member"),
                 "option": ("select", "radio")}
# What each kind of widget needs: (least dimensions, most dimensions, least measures).
GROUPED_KINDS = ("bar", "line", "area", "pie", "funnel", "leaderboard")
SHAPES = {"kpi": (0, 0, 1), "bar": (1, 2, 1), "line": (1, 2, 1), "area": (1, 2, 1), "pie": (1, 1, 1),
          "funnel": (1, 1, 1), "pivot": (1, 2, 1), "leaderboard": (1, 1, 1), "table": (0, 0, 0)}


def check_dashboards(facts: AppFacts) -> Iterable[Problem]:
    seen: dict[str, str] = {}
    for dashboard in dashboards_of(facts.app):
        if dashboard.key in seen:
            yield Problem(f"{dashboard.path}.key", f"dashboard key {dashboard.key!r} is used twice (also at "
                          f"{seen[dashboard.key]}); rename one of them", code="duplicate_key")
        seen.setdefault(dashboard.key, dashboard.path)
        yield from _check_dashboard(facts, dashboard)


def _check_dashboard(facts: AppFacts, dashboard: Dashboard) -> Iterable[Problem]:
    yield from _duplicates([(c.key, c.path) for c in dashboard.controls], "control", dashboard.key)
    yield from _duplicates([(w.key, w.path) for w in dashboard.widgets], "widget", dashboard.key)
    for control in dashboard.controls:
        yield from _check_control(facts, control)
    for widget in dashboard.widgets:
        problems = list(_check_widget(facts, dashboard, widget))
        yield from problems
        if not problems and widget.form is not None and widget.kind in SHAPES:
            yield from _check_statement(facts, dashboard, widget)


def _check_statement(facts: AppFacts, dashboard: Dashboard, widget: Widget) -> Iterable[Problem]:
    """The widget's statement built and compiled once, as the service will build it."""
    context = WidgetContext(facts.tables, Dialect.of("sqlite"), ZoneInfo("UTC"), date(2026, 1, 1))
    try:
        query = widget_query(dashboard, widget, {}, context)
        query.statement.compile(dialect=sqlite.dialect())
    except (FormworkError, PathError, sa.exc.SQLAlchemyError) as error:
        where = getattr(error, "path", None)
        path = where if isinstance(where, str) and where.startswith(widget.path) else widget.path
        detail = getattr(error, "message", None) or str(error)
        yield Problem(path, f"widget {widget.key!r}: its SQL cannot be built: {detail}; fix this part of the "
                      "widget", code="widget_sql",
                      message_zh=f"组件“{widget.key}”的查询无法生成：{detail}；请修改组件的这一部分")


def _duplicates(entries: list[tuple[str, str]], what: str, where: str) -> Iterable[Problem]:
    seen: dict[str, str] = {}
    for key, path in entries:
        if key in seen:
            yield Problem(f"{path}.key", f"{what} key {key!r} is used twice in dashboard {where!r} (also at "
                          f"{seen[key]}); rename one of them", code="duplicate_key")
        seen.setdefault(key, path)


def _form(facts: AppFacts, key: str, path: str) -> FormDef | Problem:
    form = facts.app.form(key)
    if form is not None:
        return form
    keys = [f.key for f in facts.app.forms]
    return Problem(path, f"{key!r} is not a form of this app; name one of its forms ({', '.join(keys)})",
                   code="unknown_form", suggestion=did_you_mean(key, keys))


def _field(facts: AppFacts, form: FormDef, text: str, path: str, widget: Widget | None = None):
    """(the field's type name and formula type, None) or (None, a problem); `text` may
    name one of the widget's derived values."""
    derived = widget.derived_value(text) if widget is not None else None
    if derived is not None:
        try:
            fdef, ftype = derived_field(facts.tables, form, derived)
        except PathError as error:
            return None, Problem(path, error.message, code="unknown_field", suggestion=error.suggestion)
        return ("derived" if fdef.type == "number" else fdef.type, ftype.formula_type), None
    try:
        found = locate(facts.app, form, text, facts.types)
    except PathError as error:
        return None, Problem(path, error.message, code="unknown_field", suggestion=error.suggestion)
    ftype = field_type(found.field) if found.system else facts.types.of(found.field)
    if ftype.storage != "column":
        return None, Problem(path, f"{text!r} ({found.field.type}) has no single value stored with the record; "
                             "name a text, number, date, choice, member or relation field", code="not_groupable")
    return (found.field.type, ftype.formula_type), None


def _check_control(facts: AppFacts, control: Control) -> Iterable[Problem]:
    wanted = CONTROL_TYPES.get(control.kind, ())
    for form_key, text in control.fields.items():
        path = f"{control.path}.fields.{form_key}"
        form = _form(facts, form_key, path)
        if isinstance(form, Problem):
            yield form
            continue
        kinds, problem = _field(facts, form, text, path)
        if problem is not None:
            yield problem
        elif kinds[0] not in wanted and kinds[1] not in wanted:
            yield Problem(path, f"a {control.kind} control filters a {' or '.join(wanted)} field; {text!r} is a "
                          f"{kinds[0]} field", code="control_type")
    if control.default is not None:
        if control.kind != "date_range":
            yield Problem(f"{control.path}.default", "only a date_range control takes a default; remove it",
                          code="bad_default")
        elif not (isinstance(control.default, str) and (control.default in RANGE_DEFAULTS or ".." in control.default)):
            yield Problem(f"{control.path}.default", f"default {control.default!r} is not a date range; write one "
                          f"of {', '.join(RANGE_DEFAULTS)} or FROM..TO", code="bad_default",
                          suggestion=did_you_mean(str(control.default), list(RANGE_DEFAULTS)))


def _check_widget(facts: AppFacts, dashboard: Dashboard, widget: Widget) -> Iterable[Problem]:
    if widget.form is None:
        return
    form = _form(facts, widget.form, f"{widget.path}.form")
    if isinstance(form, Problem):
        yield form
        return
    if widget.filter is not None:
        tree = parse_filter(widget.filter, form, app=facts.app, types=facts.types, path=f"{widget.path}.filter")
        for error in tree.errors:
            yield Problem(error.path, error.message, code="bad_filter")
    shape = SHAPES.get(widget.kind)
    if shape is None:
        return
    least, most, measures = shape
    if not least <= len(widget.dimensions) <= most:
        count = f"{least}" if least == most else f"{least} to {most}"
        yield Problem(f"{widget.path}.dimensions", f"a {widget.kind} widget groups by {count} dimension(s), not "
                      f"{len(widget.dimensions)}", code="widget_shape")
    if len(widget.measures) < measures:
        yield Problem(f"{widget.path}.measures", f"a {widget.kind} widget needs a measure, like "
                      "{key: n, agg: count}", code="widget_shape")
    if widget.kind == "pivot" and len(widget.columns) != 1:
        yield Problem(f"{widget.path}.columns", "a pivot needs one column dimension under `columns:`",
                      code="widget_shape")
    if widget.kind != "pivot" and widget.columns:
        yield Problem(f"{widget.path}.columns", "only a pivot has column dimensions; remove `columns:`",
                      code="widget_shape")
    if widget.kind == "table" and not widget.fields:
        yield Problem(f"{widget.path}.fields", "a table widget shows fields: list them under `fields:`",
                      code="widget_shape")
    if widget.kind != "table" and widget.fields:
        yield Problem(f"{widget.path}.fields", "only a table widget lists fields; remove `fields:`",
                      code="widget_shape")
    if widget.compare is not None:
        if widget.kind != "kpi":
            yield Problem(f"{widget.path}.compare", "only a KPI compares with the previous period",
                          code="widget_shape")
        elif not any(c.kind == "date_range" and widget.form in c.fields for c in dashboard.controls):
            yield Problem(f"{widget.path}.compare", f"the previous period is the one before the dashboard's date "
                          f"range: add a date_range control naming a date field of {widget.form!r}",
                          code="no_period")
    yield from _check_derived(facts, form, widget)
    for i, dim in enumerate(widget.dimensions + widget.columns):
        yield from _check_dimension(facts, form, dim, widget)
    for path in widget.fields:
        _, problem = _field(facts, form, path, f"{widget.path}.fields", widget)
        if problem is not None:
            yield problem
    yield from _check_measures(facts, form, widget)
    keys = [m.key for m in widget.measures]
    for i, item in enumerate(widget.sort):
        allowed = keys + [d.field for d in widget.dimensions] + ["dimension"]
        if widget.kind == "table":
            _, problem = _field(facts, form, item.by, f"{widget.path}.sort[{i}].by")
            if problem is not None:
                yield problem
        elif item.by not in allowed:
            yield Problem(f"{widget.path}.sort[{i}].by", f"sort by {item.by!r}: name a measure of the widget "
                          f"({', '.join(keys) or 'none'}) or `dimension`", code="unknown_measure",
                          suggestion=did_you_mean(item.by, allowed))


def _check_derived(facts: AppFacts, form: FormDef, widget: Widget) -> Iterable[Problem]:
    seen: dict[str, str] = {}
    measures = {m.key for m in widget.measures}
    for value in widget.derived:
        if value.key in seen or value.key in measures or form.field(value.key) is not None:
            yield Problem(f"{value.path}.key", f"derived value key {value.key!r} is already a field, a measure or "
                          f"another derived value of widget {widget.key!r}; give it a key of its own",
                          code="duplicate_key")
        seen.setdefault(value.key, value.path)
        if value.fn not in DERIVED_FNS:
            continue        # the JSON Schema names them
        if (value.fn in DERIVED_NEEDS_FIELD) != (value.field is not None):
            need = "needs `field:`" if value.fn in DERIVED_NEEDS_FIELD else "takes no `field:`"
            yield Problem(value.path, f"derived value {value.key!r} ({value.fn}) {need}", code="bad_derived")
            continue
        if value.fn in DERIVED_NEEDS_ORDER and not value.order:
            yield Problem(value.path, f"derived value {value.key!r} ({value.fn}) needs `order:`, the field its "
                          "records follow one another by, like [ordered_on]", code="bad_derived")
        paths = [("partition", p) for p in value.partition] + [("order", o.by) for o in value.order]
        paths += [("field", value.field)] if value.field else []
        for part, text in paths:
            where = f"{value.path}.{part}"
            if "." in text:
                yield Problem(where, f"{text!r}: a derived value reads the form's own fields; name one "
                              "without a dot", code="bad_derived")
                continue
            kinds, problem = _field(facts, form, text, where)
            if problem is not None:
                yield problem
            elif part == "field" and value.fn == "days_since_previous" and kinds[1] != "date":
                yield Problem(where, f"days_since_previous counts days between dates; {text!r} is a {kinds[0]} "
                              "field: name a date field", code="bad_derived")
            elif part == "field" and value.fn == "sum" and kinds[1] != "number":
                yield Problem(where, f"sum adds numbers; {text!r} is a {kinds[0]} field", code="bad_derived")


def _check_dimension(facts: AppFacts, form: FormDef, dim, widget: Widget | None = None) -> Iterable[Problem]:
    kinds, problem = _field(facts, form, dim.field, f"{dim.path}.field", widget)
    if problem is not None:
        yield problem
        return
    is_date = kinds[1] in ("date", "datetime")
    if dim.bucket is not None and dim.bucket not in BUCKETS:
        return      # the JSON Schema names the buckets
    if dim.bucket is not None and not is_date:
        yield Problem(f"{dim.path}.bucket", f"{dim.field!r} is a {kinds[0]} field; only dates and datetimes are "
                      "bucketed: remove `bucket`", code="bad_bucket")
    elif dim.bucket is None and kinds[1] == "datetime":
        yield Problem(f"{dim.path}.field", f"{dim.field!r} is a date and time: group it by a bucket, like "
                      "`bucket: day`", code="bad_bucket")
    elif kinds[1] == "number" and kinds[0] not in ("relation", "member", "department", "derived"):
        yield Problem(f"{dim.path}.field", f"{dim.field!r} is a number: a dimension groups by a text, choice, "
                      "date, member or relation field; aggregate numbers in a measure", code="bad_dimension")


def _check_measures(facts: AppFacts, form: FormDef, widget: Widget) -> Iterable[Problem]:
    seen: dict[str, str] = {}
    for measure in widget.measures:
        if measure.key in seen:
            yield Problem(f"{measure.path}.key", f"measure key {measure.key!r} is used twice in widget "
                          f"{widget.key!r} (also at {seen[measure.key]}); rename one of them", code="duplicate_key")
        seen.setdefault(measure.key, measure.path)
        if [measure.agg, measure.formula, measure.window].count(None) != 2:
            yield Problem(measure.path, f"measure {measure.key!r} needs one of `agg` (count, sum...), `formula` "
                          "(over the other measures) or `window` (ntile, rank over another measure)",
                          code="bad_measure")
            continue
        if measure.is_window:
            yield from _check_window(widget, measure)
            continue
        if measure.is_formula:
            yield from _check_formula(widget, measure)
            continue
        if measure.filter is not None:
            tree = parse_filter(measure.filter, form, app=facts.app, types=facts.types,
                                path=f"{measure.path}.filter")
            for error in tree.errors:
                yield Problem(error.path, error.message, code="bad_filter")
        if measure.agg == "count":
            if measure.field is not None:
                yield Problem(f"{measure.path}.field", "count counts records and takes no field; use "
                              "distinct_count to count different values", code="bad_measure")
            continue
        if measure.field is None:
            yield Problem(measure.path, f"a {measure.agg} measure needs `field:`", code="bad_measure")
            continue
        kinds, problem = _field(facts, form, measure.field, f"{measure.path}.field", widget)
        if problem is not None:
            yield problem
        elif measure.agg in NUMBER_AGGREGATES and kinds[1] != "number":
            yield Problem(f"{measure.path}.field", f"{measure.agg} adds numbers; {measure.field!r} is a "
                          f"{kinds[0]} field: name a number field, or count it", code="measure_type")
        elif measure.agg in ORDERED_AGGREGATES and kinds[1] not in ("number", "date", "datetime"):
            yield Problem(f"{measure.path}.field", f"{measure.agg} needs a number or a date; {measure.field!r} "
                          f"is a {kinds[0]} field", code="measure_type")
        elif kinds[0] in ("relation", "member", "department") and measure.agg != "distinct_count":
            yield Problem(f"{measure.path}.field", f"{measure.field!r} holds ids; count them with "
                          "distinct_count", code="measure_type")


def _check_window(widget: Widget, measure) -> Iterable[Problem]:
    if measure.window not in WINDOWS:
        return      # the JSON Schema names them
    if widget.kind not in GROUPED_KINDS:
        yield Problem(f"{measure.path}.window", f"a window ranks the groups of a {', '.join(GROUPED_KINDS)} "
                      f"widget; a {widget.kind} widget has none", code="bad_window")
    other = widget.measure(measure.of) if measure.of else None
    plain = [m.key for m in widget.measures if m.agg is not None and m.agg != "avg"]
    if other is None or other.agg is None or other.agg == "avg":
        yield Problem(f"{measure.path}.of", f"window measure {measure.key!r} orders the groups by another "
                      f"measure of the widget with `agg` (not an average): name one of {', '.join(plain) or 'none'}",
                      code="bad_window", suggestion=did_you_mean(measure.of or "", plain))
    if measure.window == "ntile" and measure.buckets is None:
        yield Problem(measure.path, "ntile needs `buckets:`, how many groups of equal size: 5 gives quintiles",
                      code="bad_window")


def _check_formula(widget: Widget, measure) -> Iterable[Problem]:
    path = f"{measure.path}.formula"
    try:
        formula, result = measure_formula(measure, widget)
    except FormulaSyntaxError as error:
        yield FormulaDefinitionProblem(path, f"formula: {error.message}", measure.formula, error.position,
                                       code="formula_syntax")
        return
    for problem in result.problems:
        yield FormulaDefinitionProblem(path, f"formula: {problem.message} (a measure formula reads the widget's "
                                       "other measures by key)", measure.formula, problem.position,
                                       code=problem.code, suggestion=problem.suggestion)
    for reference in formula.references:
        other = widget.measure(reference[0])
        if other is not None and other.agg == "avg":
            yield Problem(path, f"formula: {other.key!r} is an average; over aggregates, divide a sum by a "
                          "count instead", code="formula_avg")

"""Dashboards read from the definition's `dashboards` list into plain objects. Reading
never raises: what is malformed is left out or None, and the validator reports it
(engine/validation/dashboard_checks.py); an installed app has none of that.

    dashboards:
      - key: sales
        label: {zh: 销售看板, en: Sales}
        controls:
          - {key: period, kind: date_range, label: ..., fields: {contracts: signed_on}}
        widgets:
          - key: by_month
            kind: bar
            label: ...
            form: contracts
            filter: {field: status, op: in, value: [signed]}
            dimensions: [{field: signed_on, bucket: month}]
            measures: [{key: total, agg: sum, field: amount}]
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.definition.model import AppDef, Label

WIDGET_KINDS = ("kpi", "bar", "line", "area", "pie", "funnel", "pivot", "leaderboard", "table")
CHART_KINDS = ("bar", "line", "area", "pie", "funnel", "leaderboard")
AGGREGATES = ("count", "distinct_count", "sum", "avg", "min", "max")
BUCKETS = ("day", "week", "month", "quarter", "year")
# A derived value of each record, a window over the records of the form the reader may see
# (docs/dashboards.md, "Derived values and window measures").
DERIVED_FNS = ("row_number", "count", "sum", "min", "max", "previous", "next", "days_since_previous")
DERIVED_NEEDS_FIELD = ("sum", "min", "max", "previous", "next", "days_since_previous")
DERIVED_NEEDS_ORDER = ("row_number", "previous", "next", "days_since_previous")
WINDOWS = ("ntile", "rank")
CONTROL_KINDS = ("date_range", "member", "department", "option")
RANGE_DEFAULTS = ("today", "this_week", "this_month", "this_quarter", "this_year",
                  "last_7_days", "last_30_days", "last_90_days", "last_365_days")
MAX_LIMIT = 500


@dataclass(frozen=True)
class Dimension:
    field: str                  # a path: "signed_on", "customer.level"
    bucket: str | None          # for dates: day week month quarter year
    path: str


@dataclass(frozen=True)
class Measure:
    key: str
    label: Label | None
    agg: str | None             # one of AGGREGATES, or None for a formula over the others
    field: str | None           # the path aggregated (count takes none)
    formula: str | None         # over the other measures' keys: won / n
    path: str
    filter: Any = None          # only the records it matches are aggregated (the filter language)
    window: str | None = None   # one of WINDOWS: a window over another measure across the groups
    of: str | None = None       # the measure the window orders the groups by
    buckets: int | None = None  # ntile's number of buckets (5: quintiles)
    desc: bool = False          # the window's order

    @property
    def is_formula(self) -> bool:
        return self.formula is not None

    @property
    def is_window(self) -> bool:
        return self.window is not None


@dataclass(frozen=True)
class Derived:
    """A value of each record computed by a window function over the form's records the
    reader may see (before the widget's filter and the controls), by `partition` and in
    `order`: the number of the customer's order, the customer's number of orders, the
    previous order's date, the days since it."""

    key: str
    label: Label | None
    fn: str
    field: str | None
    partition: tuple[str, ...]
    order: tuple[SortItem, ...]
    path: str


@dataclass(frozen=True)
class SortItem:
    by: str                     # a measure key, or "dimension" (the first dimension)
    desc: bool


@dataclass(frozen=True)
class Widget:
    key: str
    kind: str
    label: Label
    form: str | None
    filter: Any
    dimensions: tuple[Dimension, ...]
    columns: tuple[Dimension, ...]        # a pivot's column dimensions
    measures: tuple[Measure, ...]
    sort: tuple[SortItem, ...]
    limit: int | None
    fields: tuple[str, ...]               # a detail table's columns
    compare: str | None                   # a KPI's "previous_period"
    path: str
    derived: tuple["Derived", ...] = ()

    def measure(self, key: str) -> Measure | None:
        return next((m for m in self.measures if m.key == key), None)

    def derived_value(self, key: str) -> "Derived | None":
        return next((d for d in self.derived if d.key == key), None)


@dataclass(frozen=True)
class Control:
    key: str
    kind: str
    label: Label
    fields: dict[str, str]                # form key -> field path the control filters
    default: Any
    path: str


@dataclass(frozen=True)
class Dashboard:
    key: str
    label: Label
    controls: tuple[Control, ...]
    widgets: tuple[Widget, ...]
    path: str
    raw: dict = field(default_factory=dict, compare=False)

    def widget(self, key: str) -> Widget | None:
        return next((w for w in self.widgets if w.key == key), None)

    def control(self, key: str) -> Control | None:
        return next((c for c in self.controls if c.key == key), None)


def dashboards_of(app: AppDef) -> list[Dashboard]:
    """The dashboards of a definition (those with a text key)."""
    raw = app.raw.get("dashboards") if isinstance(app.raw, dict) else None
    found = []
    for index, item in enumerate(raw if isinstance(raw, list) else []):
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            found.append(_dashboard(item, f"dashboards[{index}]"))
    return found


def dashboard_of(app: AppDef, key: str) -> Dashboard | None:
    return next((d for d in dashboards_of(app) if d.key == key), None)


def _label(raw: Any, key: str) -> Label:
    return Label.parse(raw if isinstance(raw, (dict, str)) else key)


def _list(raw: Any) -> list:
    return raw if isinstance(raw, list) else []


def _dashboard(item: dict, path: str) -> Dashboard:
    controls = tuple(_control(c, f"{path}.controls[{i}]") for i, c in enumerate(_list(item.get("controls")))
                     if isinstance(c, dict) and isinstance(c.get("key"), str) and isinstance(c.get("kind"), str))
    widgets = tuple(_widget(w, f"{path}.widgets[{i}]") for i, w in enumerate(_list(item.get("widgets")))
                    if isinstance(w, dict) and isinstance(w.get("key"), str) and isinstance(w.get("kind"), str))
    return Dashboard(item["key"], _label(item.get("label"), item["key"]), controls, widgets, path, item)


def _control(item: dict, path: str) -> Control:
    fields = item.get("fields") if isinstance(item.get("fields"), dict) else {}
    return Control(item["key"], item["kind"], _label(item.get("label"), item["key"]),
                   {k: v for k, v in fields.items() if isinstance(v, str)}, item.get("default"), path)


def _dimensions(raw: Any, path: str) -> tuple[Dimension, ...]:
    found = []
    for i, item in enumerate(_list(raw)):
        if isinstance(item, str):
            item = {"field": item}
        if isinstance(item, dict) and isinstance(item.get("field"), str):
            bucket = item.get("bucket") if isinstance(item.get("bucket"), str) else None
            found.append(Dimension(item["field"], bucket, f"{path}[{i}]"))
    return tuple(found)


def _measures(raw: Any, path: str) -> tuple[Measure, ...]:
    found = []
    for i, item in enumerate(_list(raw)):
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            continue
        label = Label.parse(item["label"]) if isinstance(item.get("label"), dict) else None
        buckets = item.get("buckets")
        found.append(Measure(item["key"], label, item.get("agg") if isinstance(item.get("agg"), str) else None,
                             item.get("field") if isinstance(item.get("field"), str) else None,
                             item.get("formula") if isinstance(item.get("formula"), str) else None,
                             f"{path}[{i}]", item.get("filter"),
                             item.get("window") if isinstance(item.get("window"), str) else None,
                             item.get("of") if isinstance(item.get("of"), str) else None,
                             buckets if isinstance(buckets, int) and not isinstance(buckets, bool) else None,
                             item.get("dir") == "desc"))
    return tuple(found)


def _sort_items(raw: Any) -> tuple[SortItem, ...]:
    items = []
    for s in _list(raw):
        if isinstance(s, str):
            s = {"by": s}
        if isinstance(s, dict) and isinstance(s.get("by"), str):
            items.append(SortItem(s["by"], s.get("dir") == "desc"))
    return tuple(items)


def _derived(raw: Any, path: str) -> tuple[Derived, ...]:
    found = []
    for i, item in enumerate(_list(raw)):
        if not isinstance(item, dict) or not isinstance(item.get("key"), str) or not isinstance(item.get("fn"), str):
            continue
        label = Label.parse(item["label"]) if isinstance(item.get("label"), (dict, str)) else None
        found.append(Derived(item["key"], label, item["fn"],
                             item.get("field") if isinstance(item.get("field"), str) else None,
                             tuple(p for p in _list(item.get("partition")) if isinstance(p, str)),
                             _sort_items(item.get("order")), f"{path}[{i}]"))
    return tuple(found)


def _widget(item: dict, path: str) -> Widget:
    sort = tuple(SortItem(s["by"], s.get("dir") == "desc") for s in _list(item.get("sort"))
                 if isinstance(s, dict) and isinstance(s.get("by"), str))
    limit = item.get("limit") if isinstance(item.get("limit"), int) and not isinstance(item.get("limit"), bool) \
        else None
    return Widget(
        key=item["key"], kind=item["kind"], label=_label(item.get("label"), item["key"]),
        form=item.get("form") if isinstance(item.get("form"), str) else None, filter=item.get("filter"),
        dimensions=_dimensions(item.get("dimensions"), f"{path}.dimensions"),
        columns=_dimensions(item.get("columns"), f"{path}.columns"),
        measures=_measures(item.get("measures"), f"{path}.measures"), sort=sort, limit=limit,
        fields=tuple(f for f in _list(item.get("fields")) if isinstance(f, str)),
        compare=item.get("compare") if isinstance(item.get("compare"), str) else None, path=path,
        derived=_derived(item.get("derived"), f"{path}.derived"))

"""Every widget kind, bucket, measure and control on a small app, on SQLite and
PostgreSQL, against figures worked out by hand from the records made; a formula over
aggregates with its error value; the definition checks with line and column."""
from __future__ import annotations

from decimal import Decimal

import pytest

from engine.validation.validate import check_text
from runtime.apps import load_installed
from runtime.dashboards import DashboardControlError, Dashboards, WidgetCache
from runtime.permissions import VIEW, FormAccess
from runtime.records import Records
from tests.support.dashboards_app import NOW, L, fill


W = lambda key, kind, **more: {"key": key, "kind": kind, "label": L(key), "form": "orders", **more}  # noqa: E731
SUM = {"key": "total", "agg": "sum", "field": "amount"}
N = {"key": "n", "agg": "count"}
DASHBOARD = {"key": "main", "label": L("看板", "Main"), "controls": [
    {"key": "period", "kind": "date_range", "label": L("期间"), "fields": {"orders": "ordered_on"}},
    {"key": "owner", "kind": "member", "label": L("销售"), "fields": {"orders": "customer.owner"}},
    {"key": "dept", "kind": "department", "label": L("部门"), "fields": {"orders": "customer.dept"}},
    {"key": "level", "kind": "option", "label": L("等级"), "fields": {"orders": "customer.level"}},
], "widgets": [
    W("kpi", "kpi", compare="previous_period", measures=[SUM, N]),
    *[W(f"by_{b}", "bar", dimensions=[{"field": "ordered_on", "bucket": b}], measures=[N]) for b in
      ("day", "week", "month", "quarter", "year")],
    W("created", "line", dimensions=[{"field": "created_at", "bucket": "year"}], measures=[N]),
    W("measures", "area", dimensions=["customer.level"], measures=[
        N, SUM, {"key": "customers", "agg": "distinct_count", "field": "customer"},
        {"key": "mean", "agg": "avg", "field": "amount"}, {"key": "low", "agg": "min", "field": "amount"},
        {"key": "high", "agg": "max", "field": "ordered_on"},
        {"key": "paid", "agg": "sum", "field": "amount", "filter": {"field": "status", "value": "paid"}},
        {"key": "share", "formula": "ROUND(paid / total, 4)"}, {"key": "per_lost", "formula": "total / lost"},
        {"key": "lost", "agg": "count", "filter": {"field": "status", "value": "lost"}}]),
    W("pie", "pie", dimensions=["customer"], measures=[SUM]),
    W("funnel", "funnel", dimensions=["status"], measures=[N]),
    W("top", "leaderboard", dimensions=["customer.owner"], measures=[SUM], limit=1),
    W("pivot", "pivot", dimensions=["customer.level"], columns=["status"], measures=[N, SUM]),
    W("table", "table", fields=["title", "amount", "customer.level"], sort=[{"by": "amount", "dir": "desc"}],
      limit=2),
]}


@pytest.fixture
def shop(db):
    return db, fill(db, DASHBOARD)


def _load(db, **controls):
    with db.connect() as conn:
        records = Records(conn, load_installed(conn, "shop"), lang="en",
                          now=NOW)
        return {w["key"]: w["data"] for w in Dashboards(records, WidgetCache()).load("main", controls)["widgets"]}


def _rows(data, measure="n"):
    return [(r["keys"][0], r["values"][measure]) for r in data["rows"]]


def test_buckets(shop):
    db, _ = shop
    got = _load(db)
    assert _rows(got["by_day"]) == [("2025-12-31", 1), ("2026-01-05", 1), ("2026-01-06", 1), ("2026-02-10", 1)]
    assert _rows(got["by_week"]) == [("2025-12-29", 1), ("2026-01-05", 2), ("2026-02-09", 1)]
    assert _rows(got["by_month"]) == [("2025-12", 1), ("2026-01", 2), ("2026-02", 1)]
    assert _rows(got["by_quarter"]) == [("2025-Q4", 1), ("2026-Q1", 3)]
    assert _rows(got["by_year"]) == [("2025", 1), ("2026", 3)]
    assert _rows(got["created"]) == [("2026", 4)]       # a datetime, bucketed in the workspace time zone


def test_measures_and_formulas_over_them(shop):
    db, ids = shop
    got = {r["keys"][0]: {k: Decimal(v) if k in ("share", "per_lost") and isinstance(v, str) else v
                          for k, v in r["values"].items()} for r in _load(db)["measures"]["rows"]}
    assert got["vip"] == {"n": 2, "total": "150.50", "customers": 1, "mean": "75.2500", "low": "50.50",
                          "high": "2026-01-06", "paid": "100.00", "share": Decimal("0.6645"), "lost": 0,
                          "per_lost": {"error": "#DIV/0!"}}
    assert got["normal"] == {"n": 2, "total": "50.00", "customers": 1, "mean": "25.0000", "low": "20.00",
                             "high": "2026-02-10", "paid": "20.00", "share": Decimal("0.4"), "lost": 1,
                             "per_lost": Decimal(50)}


def test_kinds(shop):
    db, ids = shop
    got = _load(db, period="2026-01-01..2026-03-31")
    kpi = {m["key"]: m for m in got["kpi"]["measures"]}
    assert (kpi["total"]["value"], kpi["total"]["previous"], kpi["n"]["value"], kpi["n"]["previous"]) == \
        ("180.50", "20.00", 3, 1)
    assert kpi["n"]["change"] == "2.0000" and got["kpi"]["previous_period"] == {"from": "2025-10-01",
                                                                                "to": "2025-12-31"}
    assert [(r["labels"][0], r["values"]["total"]) for r in got["pie"]["rows"]] == [("甲", "150.50"), ("乙", "30.00")]
    assert [r["keys"][0] for r in got["funnel"]["rows"]] == ["new", "paid", "lost"]     # in the options' order
    assert [r["conversion"] for r in got["funnel"]["rows"]] == [None, "1.0000", "1.0000"]
    assert [(r["labels"][0], r["rank"]) for r in got["top"]["rows"]] == [("李雷", 1)]
    pivot = got["pivot"]
    assert {r["keys"][0]: r["cells"] for r in pivot["rows"]} == {
        "vip": {"paid": {"n": 1, "total": "100.00"}, "new": {"n": 1, "total": "50.50"}},
        "normal": {"lost": {"n": 1, "total": "30.00"}}}
    assert {r["keys"][0]: r["total"] for r in pivot["rows"]} == {"vip": {"n": 2, "total": "150.50"},
                                                                 "normal": {"n": 1, "total": "30.00"}}
    assert pivot["column_totals"] == {"paid": {"n": 1, "total": "100.00"}, "new": {"n": 1, "total": "50.50"},
                                      "lost": {"n": 1, "total": "30.00"}}
    assert pivot["total"] == {"n": 3, "total": "180.50"}
    assert [(r["values"]["title"], r["values"]["customer.level"]) for r in got["table"]["rows"]] == \
        [("o1", "vip"), ("o2", "vip")]


def test_controls(shop):
    db, ids = shop
    assert _rows(_load(db, owner=ids["han"])["by_month"]) == [("2025-12", 1), ("2026-02", 1)]
    assert _rows(_load(db, dept=ids["east"])["by_month"]) == [("2026-01", 2)]      # sub-departments too
    assert _rows(_load(db, level="normal")["by_month"]) == [("2025-12", 1), ("2026-02", 1)]
    assert _rows(_load(db, period="2026-01-01..2026-01-31")["by_day"]) == [("2026-01-05", 1), ("2026-01-06", 1)]
    assert _rows(_load(db, period="this_month")["by_day"]) == []
    with pytest.raises(DashboardControlError) as bad:
        _load(db, level="gold")
    assert "gold" in bad.value.message("en") and "vip" in bad.value.message("en")


def test_the_definition_is_checked_with_line_and_column():
    text = """format_version: 1
app: {key: shop, label: {zh: 商店, en: Shop}}
forms:
  - key: orders
    label: {zh: 订单, en: Orders}
    fields:
      - {key: amount, type: number, label: {zh: 金额, en: Amount}, precision: 2}
      - {key: title, type: text, label: {zh: 标题, en: Title}}
dashboards:
  - key: main
    label: {zh: 看板, en: Main}
    widgets:
      - key: k
        kind: bar
        label: {zh: 甲, en: A}
        form: orders
        dimensions: [titel]
        measures:
          - {key: total, agg: avg, field: title}
          - {key: rate, formula: "total / nn"}
"""
    _, problems = check_text(text, "x.yaml")
    found = {(p.path, p.line, p.column) for p in problems}
    assert ("dashboards[0].widgets[0].dimensions[0].field", 17, 22) in found or \
        any(p.path.startswith("dashboards[0].widgets[0].dimensions[0]") and p.line == 17 for p in problems)
    messages = " | ".join(p.message for p in problems)
    assert "did you mean 'title'" in messages.lower() or any(p.suggestion == "title" for p in problems)
    assert any("avg adds numbers" in p.message and p.line == 19 for p in problems)
    assert any(p.path.endswith("measures[1].formula") and p.line == 20 and p.column == 43 for p in problems)
    assert any("is an average" in p.message for p in problems)


def test_each_group_carries_the_filter_of_its_records(shop):
    db, ids = shop
    got = _load(db)
    with db.connect() as conn:
        records = Records(conn, load_installed(conn, "shop"), now=NOW)
        for widget, measure in (("by_week", "n"), ("by_quarter", "n"), ("measures", "n"), ("pie", "total"),
                                ("funnel", "n"), ("top", "total")):
            for row in got[widget]["rows"]:
                found = records.list("orders", filter=row["filter"], page_size=500).records
                if measure == "n":
                    assert len(found) == row["values"]["n"], (widget, row)
                else:
                    assert str(sum(Decimal(r["fields"]["amount"]) for r in found)) == row["values"]["total"]


class _OrdersOnly:
    """A reader who may view the orders but not the customers, and not the orders' status."""

    def access(self, app, form, actor):
        if form.key == "orders":
            return FormAccess.limited(form, actions={VIEW}, visible=["title", "customer", "amount", "qty",
                                                                       "ordered_on"])
        return FormAccess(actions=frozenset())


PEEKING = {"key": "main", "label": L("看板", "Main"), "widgets": [
    W("by_level", "bar", dimensions=["customer.level"], measures=[N]),
    W("filtered", "bar", dimensions=[{"field": "ordered_on", "bucket": "month"}], measures=[N],
      filter={"field": "status", "value": "paid"}),
    W("measured", "kpi", measures=[{"key": "paid", "agg": "count", "filter": {"field": "status", "value": "paid"}}]),
    W("allowed", "bar", dimensions=[{"field": "ordered_on", "bucket": "month"}], measures=[N, SUM]),
]}


def test_a_widget_reaching_past_what_the_reader_may_see_is_refused_alone(db):
    """Grouping through a form the reader may not view, or filtering (the widget's or a
    measure's filter) on a hidden field, refuses that widget; the others still show."""
    fill(db, PEEKING)
    with db.connect() as conn:
        records = Records(conn, load_installed(conn, "shop"), lang="en", now=NOW, policy=_OrdersOnly())
        widgets = {w["key"]: w for w in Dashboards(records, WidgetCache()).load("main")["widgets"]}
    refusals = {key: (widgets[key]["data"], widgets[key]["error"]["error"])
                for key in ("by_level", "filtered", "measured")}
    assert refusals == {"by_level": (None, "dashboard_widget_hidden_field"),
                        "filtered": (None, "permission_hidden_filter"),
                        "measured": (None, "permission_hidden_filter")}
    assert [r["values"]["n"] for r in widgets["allowed"]["data"]["rows"]] == [1, 2, 1]


def test_two_member_dimensions_join_the_users_under_names_of_their_own(db):
    """Each name join has its own alias, numbered within the widget (the same on every run)."""
    fill(db, {"key": "main", "label": L("看板"), "widgets": [
        W("who", "pivot", dimensions=["customer.owner"], columns=["created_by"], measures=[N])]})
    with db.connect() as conn:
        records = Records(conn, load_installed(conn, "shop"), lang="en", now=NOW)
        [widget] = Dashboards(records, WidgetCache()).load("main")["widgets"]
    assert widget.get("error") is None
    assert sorted(r["labels"][0] for r in widget["data"]["rows"]) == ["李雷", "韩梅"]

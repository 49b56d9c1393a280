"""Drill-down: each group's filter, given to the record list, finds exactly the records
the group counts, on SQLite and PostgreSQL. A datetime bucket is [its first day, the
next bucket's first day), so a record late on the bucket's last day is in it; a path
through a relation drills by a formula whose literals the formula language writes (a
quote in a name, a number)."""
from __future__ import annotations

import copy
from datetime import datetime, timezone

import pytest

from engine.definition.model import AppDef
from runtime.apps import apply_app, load_installed
from runtime.dashboards import Dashboards, WidgetCache
from runtime.records import Records
from tests.support.dashboards_app import DEFINITION, NOW, L, fill

W = lambda key, **more: {"key": key, "kind": "bar", "label": L(key), "form": "orders",  # noqa: E731
                         "measures": [{"key": "n", "agg": "count"}], **more}
DRILLS = {"key": "main", "label": L("看板"), "widgets": [
    W("created_day", dimensions=[{"field": "created_at", "bucket": "day"}]),
    W("created_month", dimensions=[{"field": "created_at", "bucket": "month"}]),
    W("customer_name", dimensions=["customer.name"]),
    W("customer_level", dimensions=["customer.level"]),
    W("qty_by_customer", dimensions=["customer"], filter={"field": "qty", "op": "gte", "value": 2}),
]}
# 23:30 in Shanghai on the last day of January, 00:10 on the first of February
LATE = datetime(2026, 1, 31, 15, 30, tzinfo=timezone.utc)
EARLY = datetime(2026, 1, 31, 16, 10, tzinfo=timezone.utc)


@pytest.fixture
def drills(db):
    ids = fill(db, DRILLS)
    with db.begin() as conn:
        app = load_installed(conn, "shop")
        quoted = Records(conn, app, now=LATE).create("customers", {"name": 'A "quoted" = name', "level": "vip"})
        Records(conn, app, now=LATE).create("orders", {"title": "late", "customer": quoted["id"], "qty": 5,
                                                       "amount": "1.00", "ordered_on": "2026-01-31"})
        Records(conn, app, now=EARLY).create("orders", {"title": "early", "customer": ids["a"], "qty": 1,
                                                        "amount": "2.00", "ordered_on": "2026-02-01"})
    return db


def test_every_group_drills_to_the_records_it_counts(drills):
    with drills.connect() as conn:
        records = Records(conn, load_installed(conn, "shop"), lang="en", now=NOW)
        widgets = Dashboards(records, WidgetCache()).load("main")["widgets"]
        checked = 0
        for widget in widgets:
            rows = widget["data"]["rows"]
            assert sum(r["values"]["n"] for r in rows) == (4 if widget["key"] == "qty_by_customer" else 6)
            for row in rows:
                found = records.list("orders", filter=row["filter"], page_size=500).records
                assert len(found) == row["values"]["n"], (widget["key"], row)
                checked += 1
        by_key = {w["key"]: w["data"] for w in widgets}
    month = {r["keys"][0]: r["values"]["n"] for r in by_key["created_month"]["rows"]}
    assert month == {"2026-01": 1, "2026-02": 1, "2026-03": 4}
    late = next(r for r in by_key["created_day"]["rows"] if r["keys"] == ["2026-01-31"])
    assert late["filter"] == {"and": [{"field": "created_at", "op": "gte", "value": "2026-01-31"},
                                      {"field": "created_at", "op": "lt", "value": "2026-02-01"}]}
    quoted = next(r for r in by_key["customer_name"]["rows"] if r["keys"] == ['A "quoted" = name'])
    assert quoted["filter"] == {"and": [{"formula": 'customer.name = "A ""quoted"" = name"'}]}
    assert checked >= 12


def test_a_bucket_through_a_relation_drills_by_a_formula(db):
    """customer.since by month: the group's filter is a formula of DATE()s (through the
    relation), and it lists the orders of the customers who joined in that month."""
    raw = copy.deepcopy(DEFINITION)
    raw["forms"][0]["fields"].append({"key": "since", "type": "date", "label": L("加入", "Since")})
    raw["dashboards"] = [{"key": "main", "label": L("看板"), "widgets": [
        W("joined", dimensions=[{"field": "customer.since", "bucket": "month"}])]}]
    apply_app(db, AppDef.from_dict(raw))
    with db.begin() as conn:
        records = Records(conn, load_installed(conn, "shop"), now=NOW)
        early, late, none = [r["id"] for r in records.bulk_create("customers", [
            {"name": "早", "since": "2026-01-01"}, {"name": "晚", "since": "2026-01-31"}, {"name": "无"}])]
        records.bulk_create("orders", [{"title": f"o{i}", "customer": c, "ordered_on": "2026-02-01"}
                                       for i, c in enumerate([early, late, late, none, early])])
    with db.connect() as conn:
        records = Records(conn, load_installed(conn, "shop"), lang="en", now=NOW)
        rows = Dashboards(records, WidgetCache()).load("main")["widgets"][0]["data"]["rows"]
        rows.sort(key=lambda r: r["keys"][0] is None)          # where empty sorts differs by database
        assert [(r["keys"][0], r["values"]["n"]) for r in rows] == [("2026-01", 4), (None, 1)]
        january = rows[0]["filter"]["and"][0]["formula"]
        assert january == "AND(customer.since >= DATE(2026, 1, 1), customer.since < DATE(2026, 2, 1))"
        assert rows[1]["filter"]["and"][0]["formula"] == "ISBLANK(customer.since)"
        for row in rows:
            assert len(records.list("orders", filter=row["filter"], page_size=50).records) == row["values"]["n"]

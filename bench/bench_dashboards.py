"""Dashboards: a group-by widget over N (default 1,000,000) orders with one relation joined
(orders by customer.level: sum of the amount and count) through the dashboard service,
against the hand-written SQL of the same figures, in the same run; the same for a widget
of derived values (returning customers by month: LAG over each customer's orders) and for
RFM quintiles (NTILE over the customers' aggregates); then the dashboard of 10 widgets,
loaded first with an empty cache and then cached.

The widget side is the whole service call (policy, statement built, run, rows read into
the JSON answer) with the cache switched off; the hand-written side only runs its
statement and fetches the rows. Both sides timed alternately (bench/_common.paired).

    .venv/bin/python bench/bench_dashboards.py [--rows 1000000] [--db both|sqlite|postgresql] [--repeat 7]
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from bench._common import Counter, L, databases, paired  # noqa: E402
from engine.compiled import compiled  # noqa: E402
from engine.definition.model import AppDef  # noqa: E402
from runtime.apps import apply_app, load_installed  # noqa: E402
from runtime.dashboards import Dashboards, WidgetCache  # noqa: E402
from runtime.records import Records  # noqa: E402

LEVELS = ["vip", "key", "normal"]
STATUSES = ["new", "paid", "lost"]
W = lambda key, kind, **more: {"key": key, "kind": kind, "label": L(key), "form": "orders", **more}  # noqa: E731
APP = {
    "format_version": 1, "app": {"key": "dbench", "label": L("dashboard bench")},
    "forms": [
        {"key": "customers", "label": L("客户"), "title_field": "name", "fields": [
            {"key": "name", "type": "text", "label": L("名称")},
            {"key": "level", "type": "select", "label": L("等级"), "options": LEVELS},
        ]},
        {"key": "orders", "label": L("订单"), "fields": [
            {"key": "customer", "type": "relation", "label": L("客户"), "target": "customers"},
            {"key": "amount", "type": "number", "label": L("金额"), "precision": 2, "min": 0, "max": 100_000},
            {"key": "ordered_on", "type": "date", "label": L("日期")},
            {"key": "status", "type": "select", "label": L("状态"), "options": STATUSES},
        ]},
    ],
    "dashboards": [{"key": "main", "label": L("看板"), "controls": [
        {"key": "period", "kind": "date_range", "label": L("期间"), "fields": {"orders": "ordered_on"}}],
        "widgets": [
            W("by_level", "bar", dimensions=["customer.level"], measures=[
                {"key": "total", "agg": "sum", "field": "amount"}, {"key": "n", "agg": "count"}]),
            W("kpi", "kpi", compare="previous_period", measures=[{"key": "total", "agg": "sum", "field": "amount"}]),
            W("by_month", "line", dimensions=[{"field": "ordered_on", "bucket": "month"}],
              measures=[{"key": "total", "agg": "sum", "field": "amount"}]),
            W("by_week", "area", dimensions=[{"field": "ordered_on", "bucket": "week"}],
              measures=[{"key": "n", "agg": "count"}]),
            W("status", "pie", dimensions=["status"], measures=[{"key": "n", "agg": "count"}]),
            W("funnel", "funnel", dimensions=["status"], measures=[{"key": "n", "agg": "count"}]),
            W("pivot", "pivot", dimensions=["customer.level"], columns=["status"],
              measures=[{"key": "total", "agg": "sum", "field": "amount"}]),
            W("top", "leaderboard", dimensions=["customer"], limit=10,
              measures=[{"key": "total", "agg": "sum", "field": "amount"}]),
            W("returning", "bar", dimensions=[{"field": "ordered_on", "bucket": "month"}],
              derived=[{"key": "back", "fn": "previous", "field": "customer", "partition": ["customer"],
                        "order": ["ordered_on"]}],
              measures=[{"key": "buyers", "agg": "distinct_count", "field": "customer"},
                        {"key": "back", "agg": "distinct_count", "field": "back"}]),
            W("rfm", "leaderboard", dimensions=["customer"], limit=100, measures=[
                {"key": "last", "agg": "max", "field": "ordered_on"}, {"key": "n", "agg": "count"},
                {"key": "total", "agg": "sum", "field": "amount"},
                {"key": "r", "window": "ntile", "buckets": 5, "of": "last"},
                {"key": "f", "window": "ntile", "buckets": 5, "of": "n"},
                {"key": "m", "window": "ntile", "buckets": 5, "of": "total"},
                {"key": "cell", "formula": "r * 100 + f * 10 + m"}], sort=[{"by": "cell", "dir": "desc"}]),
        ]}],
}


def populate(engine, app, rows: int) -> None:
    tables = compiled(app).tables
    now = datetime.now(timezone.utc)
    system = {"created_at": now, "updated_at": now, "version": 1}
    rnd = random.Random(3)
    n_customers = max(rows // 50, 10)
    with engine.begin() as conn:
        conn.execute(tables.form_table("customers").insert(), [
            {**system, "name": f"客户{i}", "level": rnd.choice(LEVELS)} for i in range(n_customers)])
    orders, start_day = tables.form_table("orders"), date(2024, 1, 1)
    for start in range(0, rows, 20_000):
        batch = [{**system, "customer": rnd.randint(1, n_customers), "amount": rnd.randint(0, 5_000_000) / 100,
                  "ordered_on": start_day + timedelta(days=rnd.randint(0, 900)), "status": rnd.choice(STATUSES)}
                 for _ in range(start, min(rows, start + 20_000))]
        with engine.begin() as conn:
            conn.execute(orders.insert(), batch)
    with engine.begin() as conn:
        for form in ("customers", "orders"):
            conn.exec_driver_sql(f'ANALYZE "{tables.form_table(form).name}"')


HAND = ('SELECT c.level, SUM(o.amount), COUNT(*) FROM "dbench__orders" o LEFT JOIN "dbench__customers" c '
        'ON c.id = o.customer WHERE o.deleted_at IS NULL GROUP BY c.level ORDER BY c.level')


def _month(engine) -> str:
    return "substr(ordered_on, 1, 7)" if engine.dialect.name == "sqlite" else "to_char(ordered_on, 'YYYY-MM')"


def hand_returning(engine) -> str:
    return (f"SELECT {_month(engine)}, COUNT(DISTINCT customer), COUNT(DISTINCT back) FROM (SELECT customer, "
            "ordered_on, LAG(customer) OVER (PARTITION BY customer ORDER BY ordered_on, id) AS back "
            'FROM "dbench__orders" WHERE deleted_at IS NULL) w GROUP BY 1 ORDER BY 1')


HAND_RFM = ("SELECT customer, r * 100 + f * 10 + m AS cell, total FROM (SELECT customer, total, "
            "NTILE(5) OVER (ORDER BY last, customer) AS r, NTILE(5) OVER (ORDER BY n, customer) AS f, "
            "NTILE(5) OVER (ORDER BY total, customer) AS m FROM (SELECT customer, MAX(ordered_on) AS last, "
            'COUNT(*) AS n, SUM(amount) AS total FROM "dbench__orders" WHERE deleted_at IS NULL '
            "GROUP BY customer) g) s ORDER BY cell DESC, customer LIMIT 100")


def run(name: str, engine, rows: int, repeat: int) -> None:
    definition = AppDef.from_dict(APP)
    apply_app(engine, definition)
    started = time.perf_counter()
    populate(engine, definition, rows)
    print(f"[{name}] {rows:,} orders written in {time.perf_counter() - started:.1f} s")
    with engine.connect() as conn:
        app = load_installed(conn, "dbench")
        no_cache = WidgetCache(max_age=-1)
        service = Dashboards(Records(conn, app, lang="en"), no_cache)
        ours = service.load("main", widgets=["by_level"])["widgets"][0]["data"]["rows"]
        hand = conn.execute(sa.text(HAND)).all()
        assert [r["values"]["n"] for r in ours] == [n for _, _, n in hand], "the figures differ"
        timing = paired(lambda: service.load("main", widgets=["by_level"]),
                        lambda: conn.execute(sa.text(HAND)).all(), repeat=repeat, warmup=1)
        print(f"[{name}] group-by widget (customer.level, sum + count, one join): "
              f"{timing.describe('hand-written SQL')}")

        back = service.load("main", widgets=["returning"])["widgets"][0]["data"]["rows"]
        hand_back = conn.execute(sa.text(hand_returning(engine))).all()
        assert [(r["keys"][0], r["values"]["buyers"], r["values"]["back"]) for r in back] == \
            [tuple(h) for h in hand_back], "the returning figures differ"
        timing = paired(lambda: service.load("main", widgets=["returning"]),
                        lambda: conn.execute(sa.text(hand_returning(engine))).all(), repeat=repeat, warmup=1)
        print(f"[{name}] derived-value widget (LAG per customer, returning by month): "
              f"{timing.describe('hand-written SQL')}")
        rfm = service.load("main", widgets=["rfm"])["widgets"][0]["data"]["rows"]
        hand_rfm = conn.execute(sa.text(HAND_RFM)).all()
        assert [(r["keys"][0], int(r["values"]["cell"])) for r in rfm] == \
            [(c, int(x)) for c, x, _ in hand_rfm], "the RFM cells differ"
        timing = paired(lambda: service.load("main", widgets=["rfm"]),
                        lambda: conn.execute(sa.text(HAND_RFM)).all(), repeat=repeat, warmup=1)
        print(f"[{name}] window-measure widget (RFM: three NTILE over the customers): "
              f"{timing.describe('hand-written SQL')}")

        cache = WidgetCache()
        cached_service = Dashboards(Records(conn, app, lang="en"), cache)
        controls = {"period": "2025-01-01..2025-06-30"}
        with Counter(engine) as counted:
            start = time.perf_counter()
            cached_service.load("main", controls)
            first = (time.perf_counter() - start) * 1000
        warm = []
        for _ in range(repeat):
            start = time.perf_counter()
            answer = cached_service.load("main", controls)
            warm.append((time.perf_counter() - start) * 1000)
        assert all(w["cached"] for w in answer["widgets"])
        print(f"[{name}] dashboard of {len(answer['widgets'])} widgets: first load {first:.1f} ms "
              f"({counted.count} statements); "
              f"cached {statistics.median(warm):.3f} ms (median of {repeat}, 0 statements)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", default="both", choices=["both", "sqlite", "postgresql"])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    for name, engine in databases(args.db):
        run(name, engine, args.rows, args.repeat)


if __name__ == "__main__":
    main()

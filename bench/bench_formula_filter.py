"""A formula condition in the filter language against hand-written SQL of the same
condition, on N (default 1,000,000) orders, in the same run:

    {"formula": "AND(ROUND(amount * rate%, 2) > 500, level = \"VIP\")"}

For each database: the count of the matching orders (the formula runs on every live row:
about 0.4% match, so the capped count never stops early) and the first page of 50,
through `Records.count` / `Records.list`, against the query a developer would write by
hand (`round(amount * rate / 100, 2) > 500 AND lower(level) = 'vip'`: the formula ignores
case); and the count again with the hand-written condition in the query Records.count
makes (capped at 10,001 rows), so that only the conditions differ. Also the same
condition over fields without min/max (a product may then exceed 64 bits or 34 digits:
SQLite tests each row for an overflow; PostgreSQL needs no test, 500 being far below
where the 34-digit rounding starts), and through a relation (customer.level: a
correlated subquery against a hand-written join).

PostgreSQL's JIT (on by default, from a plan cost of 100,000) compiles long expressions
slowly; the PostgreSQL figures are given with JIT as the server has it, then with
`SET jit = off` for both sides. psycopg prepares a statement from its 6th run on a
connection, and PostgreSQL plans a prepared statement generically after 5 more: that
plan prices the capped count's LIMIT (a parameter) at a tenth, under the JIT thresholds.
So with --repeat well above 10 the medians are mostly runs without JIT, while the first
ten runs of a statement on each connection pay for it (the default, 7, shows those).

A formula filter is translated once per formula text and kept with the table (and its
statement compiled once, like the hand-written one), so the repeated pages and counts
measure the query; "formula text not seen before" measures a page that parses, checks
and translates the formula first (a new text each time).

    .venv/bin/python bench/bench_formula_filter.py [--rows 1000000] [--db both|sqlite|postgresql]
        [--repeat 7]
"""
from __future__ import annotations

import argparse
import itertools
import random
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from bench._common import L, databases, paired  # noqa: E402
from engine.compiled import compiled  # noqa: E402
from engine.definition.model import AppDef  # noqa: E402
from runtime.apps import apply_app  # noqa: E402
from runtime.records import Records  # noqa: E402
from runtime.records.service import COUNT_CAP  # noqa: E402


APP = {
    "format_version": 1, "app": {"key": "fbench", "label": L("formula bench")},
    "forms": [
        {"key": "customers", "label": L("客户"), "title_field": "name", "fields": [
            {"key": "name", "type": "text", "label": L("名称")},
            {"key": "level", "type": "text", "label": L("等级")},
        ]},
        {"key": "orders", "label": L("订单"), "title_field": "title", "fields": [
            {"key": "title", "type": "text", "label": L("标题")},
            {"key": "level", "type": "text", "label": L("等级")},
            {"key": "amount", "type": "number", "label": L("金额"), "precision": 2, "min": 0,
             "max": 10_000_000},
            {"key": "rate", "type": "number", "label": L("费率"), "precision": 2, "min": 0, "max": 100},
            {"key": "amount_any", "type": "number", "label": L("金额2"), "precision": 2},
            {"key": "rate_any", "type": "number", "label": L("费率2"), "precision": 2},
            {"key": "customer", "type": "relation", "label": L("客户"), "target": "customers"},
        ]},
    ],
}
REPEAT = 7                      # timed runs of each side, alternately
FRESH = itertools.count(1)      # trailing spaces: a formula text not seen before, in any pass
LEVELS = ["VIP", "vip", "normal", "key", "normal", "key", "normal", "normal"]
FORMULAS = {
    "bounded": 'AND(ROUND(amount * rate%, 2) > 500, level = "VIP")',
    "unbounded": 'AND(ROUND(amount_any * rate_any%, 2) > 500, level = "VIP")',
    "relation": 'AND(ROUND(amount * rate%, 2) > 500, customer.level = "VIP")',
}


def populate(engine, app, rows: int) -> None:
    tables = compiled(app).tables
    now = datetime.now(timezone.utc)
    system = {"created_at": now, "updated_at": now, "version": 1}
    rnd = random.Random(11)
    n_customers = max(rows // 20, 10)
    with engine.begin() as conn:
        conn.execute(tables.form_table("customers").insert(), [
            {**system, "name": f"客户{i}", "level": rnd.choice(LEVELS)} for i in range(n_customers)])
    orders = tables.form_table("orders")
    chunk = 20_000
    for start in range(0, rows, chunk):
        batch = []
        for i in range(start, min(rows, start + chunk)):
            amount = rnd.randint(0, 2_000_000) / 100          # up to 20,000.00
            rate = rnd.randint(0, 300) / 100                  # 0 to 3.00 %
            batch.append({**system, "title": f"订单{i}", "level": rnd.choice(LEVELS),
                          "amount": amount, "rate": rate, "amount_any": amount, "rate_any": rate,
                          "customer": rnd.randint(1, n_customers)})
        with engine.begin() as conn:
            conn.execute(orders.insert(), batch)
    with engine.begin() as conn:
        for form in ("customers", "orders"):
            conn.exec_driver_sql(f'ANALYZE "{tables.form_table(form).name}"')


def hand_written(conn, tables, variant: str, dialect: str, page: bool, capped: bool = False):
    """The same condition as a developer writes it: `round(amount * rate / 100, 2)`
    (SQLite: the stored integers of cents, as reals) and lower() for the level. With
    `capped`, the count has the shape Records.count gives it (at most 10,001 rows counted),
    so that only the conditions differ."""
    o, c = tables.form_table("orders"), tables.form_table("customers")
    amount, rate = (o.c.amount, o.c.rate) if variant != "unbounded" else (o.c.amount_any, o.c.rate_any)
    if dialect == "sqlite":
        product = sa.type_coerce(amount, sa.Integer) * sa.type_coerce(rate, sa.Integer) / 1_000_000.0
    else:
        product = amount * rate / 100
    level = o.c.level if variant != "relation" else c.c.level
    where = sa.and_(o.c.deleted_at.is_(None), sa.func.round(product, 2) > 500,
                    sa.func.lower(level) == "vip")
    source = o.outerjoin(c, c.c.id == o.c.customer)
    if page:   # the whole rows and the customer's name, as a page shows them
        return [row.id for row in conn.execute(
            sa.select(o, c.c.name.label("customer_name")).select_from(source).where(where)
            .order_by(o.c.id.desc()).limit(50))]
    if variant != "relation":
        source = o
    if capped:
        matching = sa.select(sa.literal(1)).select_from(source).where(where).limit(COUNT_CAP + 1).subquery()
        return conn.execute(sa.select(sa.func.count()).select_from(matching)).scalar_one()
    return conn.execute(sa.select(sa.func.count()).select_from(source).where(where)).scalar_one()


def run(name: str, engine, rows: int, repeat: int = REPEAT) -> None:
    app = AppDef.from_dict(APP)
    apply_app(engine, app)
    start = time.perf_counter()
    populate(engine, app, rows)
    print(f"[{name}] populated {rows:,} orders in {time.perf_counter() - start:.1f}s")
    tables = compiled(app).tables
    with engine.connect() as conn:
        records = Records(conn, app)
        measure(conn, records, tables, name, rows, "", repeat)
        if name == "postgresql":
            conn.exec_driver_sql("SET jit = off")
            measure(conn, records, tables, name, rows, ", jit off", repeat)


def measure(conn, records, tables, name: str, rows: int, setting: str, repeat: int) -> None:
    for variant, formula in FORMULAS.items():
        condition = {"formula": formula}
        count = records.count("orders", filter=condition)
        expected = hand_written(conn, tables, variant, name, page=False)
        assert count.exact and count.value == expected, (variant, count, expected)
        listed = [r["id"] for r in records.list("orders", filter=condition, sort="-id",
                                               with_count=False).records]
        assert listed == hand_written(conn, tables, variant, name, page=True), variant
        counted = paired(lambda: records.count("orders", filter=condition),
                         lambda: hand_written(conn, tables, variant, name, page=False),
                         repeat=repeat, warmup=1)
        same_shape = paired(lambda: records.count("orders", filter=condition),
                            lambda: hand_written(conn, tables, variant, name, page=False, capped=True),
                            repeat=repeat, warmup=1)
        paged = paired(lambda: records.list("orders", filter=condition, sort="-id", with_count=False),
                       lambda: hand_written(conn, tables, variant, name, page=True),
                       repeat=repeat, warmup=1)
        print(f"[{name}{setting}] {variant}: {formula}  ({count.value:,} of {rows:,} match)")
        print(f"[{name}{setting}]   count: {counted.describe('hand-written SQL')}")
        print(f"[{name}{setting}]   count, the same capped query around either condition: "
              f"{same_shape.describe('hand-written condition')}")
        cold = paired(lambda: records.list("orders", filter={"formula": formula + " " * next(FRESH)},
                                           sort="-id", with_count=False),
                      lambda: hand_written(conn, tables, variant, name, page=True),
                      repeat=repeat, warmup=1)
        print(f"[{name}{setting}]   first page of 50: {paged.describe('hand-written SQL')}")
        print(f"[{name}{setting}]   first page, formula text not seen before: "
              f"{cold.describe('hand-written SQL')}")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", default="both", choices=["both", "sqlite", "postgresql"])
    parser.add_argument("--repeat", type=int, default=REPEAT,
                        help="timed runs of each side (more on a busy machine)")
    args = parser.parse_args()
    for name, engine in databases(args.db):
        run(name, engine, args.rows, args.repeat)


if __name__ == "__main__":
    main()

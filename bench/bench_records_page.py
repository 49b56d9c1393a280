"""A filtered, sorted page of 50 records with two relations and a lookup resolved,
out of N (default 1,000,000) records, against a hand-written SQL query over the
same indexes; plus statements per record create and update.

    .venv/bin/python bench/bench_records_page.py [--rows 1000000] [--db both|sqlite|postgresql]
"""
from __future__ import annotations

import random
import sys
import time
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from bench._common import Counter, L, databases, median_ms, paired, rows_and_databases  # noqa: E402
from engine.compiled import compiled  # noqa: E402
from engine.definition.model import AppDef  # noqa: E402
from runtime.apps import apply_app  # noqa: E402
from runtime.records import Records  # noqa: E402


APP = {
    "format_version": 1, "app": {"key": "bench", "label": L("bench")},
    "forms": [
        {"key": "customers", "label": L("客户"), "title_field": "name", "fields": [
            {"key": "name", "type": "text", "label": L("名称")},
            {"key": "level", "type": "text", "label": L("等级")},
        ]},
        {"key": "products", "label": L("产品"), "title_field": "name", "fields": [
            {"key": "name", "type": "text", "label": L("名称")},
        ]},
        {"key": "orders", "label": L("订单"), "title_field": "title", "fields": [
            {"key": "title", "type": "text", "label": L("标题")},
            {"key": "status", "type": "text", "label": L("状态"), "index": True},
            {"key": "amount", "type": "number", "label": L("金额"), "precision": 2, "index": True},
            {"key": "customer", "type": "relation", "label": L("客户"), "target": "customers"},
            {"key": "product", "type": "relation", "label": L("产品"), "target": "products"},
            {"key": "customer_level", "type": "lookup", "label": L("客户等级"),
             "relation": "customer", "field": "level"},
        ]},
    ],
}
STATUSES = ["new", "won", "lost", "open", "paused"]


def populate(engine, app, rows: int) -> None:
    tables = compiled(app).tables
    now = datetime.now(timezone.utc)
    system = {"created_at": now, "updated_at": now, "version": 1}
    rnd = random.Random(7)
    n_customers, n_products = max(rows // 20, 10), 500
    with engine.begin() as conn:
        conn.execute(tables.form_table("customers").insert(), [
            {**system, "name": f"客户{i}", "level": rnd.choice(["A", "B", "C"])}
            for i in range(n_customers)])
        conn.execute(tables.form_table("products").insert(), [
            {**system, "name": f"产品{i}"} for i in range(n_products)])
    orders = tables.form_table("orders")
    chunk = 20_000
    for start in range(0, rows, chunk):
        with engine.begin() as conn:
            conn.execute(orders.insert(), [
                {**system, "title": f"订单{i}", "status": STATUSES[i % 5],
                 "amount": Decimal(rnd.randint(0, 10_000_000)) / 100,
                 "customer": rnd.randint(1, n_customers), "product": rnd.randint(1, n_products)}
                for i in range(start, min(rows, start + chunk))])
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE")
        else:
            conn.exec_driver_sql("ANALYZE")


FILTER = {"and": [{"field": "status", "op": "eq", "value": "won"},
                  {"field": "amount", "op": "gte", "value": 1000}]}
SORT = [{"field": "amount", "dir": "desc"}]


def hand_written(conn, tables, after=None):
    """What a developer would write for the same page: one query with two joins over the
    same indexes; `after` = (amount, id) of the previous page's last row (keyset)."""
    o, c, p = (tables.form_table(k) for k in ("orders", "customers", "products"))
    query = (sa.select(o, c.c.name.label("customer_name"), c.c.level.label("customer_level"),
                       p.c.name.label("product_name"))
             .select_from(o.outerjoin(c, c.c.id == o.c.customer).outerjoin(p, p.c.id == o.c.product))
             .where(o.c.deleted_at.is_(None), o.c.status == "won", o.c.amount >= Decimal(1000))
             .order_by(o.c.amount.desc(), o.c.id.desc()).limit(50))
    if after is not None:
        amount, last_id = after
        query = query.where(o.c.amount <= amount,
                            sa.or_(o.c.amount < amount, sa.and_(o.c.amount == amount, o.c.id < last_id)))
    return conn.execute(query).all()


def exact_count(conn, tables):
    """The count a naive page shows: COUNT(*) over every matching row."""
    o = tables.form_table("orders")
    return conn.execute(sa.select(sa.func.count()).select_from(o).where(
        o.c.deleted_at.is_(None), o.c.status == "won", o.c.amount >= Decimal(1000))).scalar_one()


def run(name, engine, rows):
    app = AppDef.from_dict(APP)
    apply_app(engine, app)
    start = time.perf_counter()
    populate(engine, app, rows)
    print(f"[{name}] populated {rows:,} orders in {time.perf_counter() - start:.1f}s")
    tables = compiled(app).tables
    with engine.connect() as conn:
        records = Records(conn, app)

        def page(cursor=None, size=50, with_count=False):
            return records.list("orders", filter=FILTER, sort=SORT, page_size=size, cursor=cursor,
                                with_count=with_count)
        first = page()
        assert len(first.records) == 50 and first.records[0]["fields"]["customer_level"]
        deep = first
        for _ in range(20):
            deep = page(deep.next_cursor)
        deep_last = deep.records[-1]
        after = (deep_last["fields"]["amount"], deep_last["id"])
        assert [r.id for r in hand_written(conn, tables, after)] == [r["id"] for r in page(deep.next_cursor).records]
        first_page = paired(page, lambda: hand_written(conn, tables))
        deep_page = paired(lambda: page(deep.next_cursor), lambda: hand_written(conn, tables, after))
        counted = median_ms(lambda: page(with_count=True), repeat=5)
        count = page(with_count=True).count
        naive = median_ms(lambda: exact_count(conn, tables), repeat=3, warmup=1)
        exact = exact_count(conn, tables)
        statements = {}
        for size in (10, 50, 200):
            with Counter(engine) as counter:
                page(size=size)
            statements[size] = counter.count
        with Counter(engine) as first_counted:
            page(with_count=None)
        with Counter(engine) as next_page:
            page(first.next_cursor, with_count=None)
    print(f"[{name}] page of 50 (filter+sort, 2 relations + lookup): {first_page.describe('hand-written SQL')}")
    print(f"[{name}] page 22 via keyset cursor: {deep_page.describe('hand-written keyset SQL')}")
    print(f"[{name}] statements per page by page size: {statements}")
    print(f"[{name}] count of the filtered list: {count.value:,} (exact={count.exact}, "
          f"estimated={count.estimated}; true count {exact:,}); first page with count: median "
          f"{counted:.2f} ms; a full COUNT(*) takes {naive:.2f} ms ({naive / counted:.1f}x the whole page)")
    print(f"[{name}] statements: first page {first_counted.count} (page + count), next page "
          f"{next_page.count} (no count: pages never count again)")
    with engine.begin() as conn:
        records = Records(conn, app)
        with Counter(engine) as created:
            rec = records.create("orders", {"title": "新订单", "status": "new", "amount": "12.5",
                                            "customer": 1, "product": 1})
        with Counter(engine) as updated:
            records.update("orders", rec["id"], {"amount": "13"}, expected_version=1)
    print(f"[{name}] statements per create: {created.count}; per update: {updated.count}")


def main():
    rows, which = rows_and_databases(__doc__, 1_000_000)
    for name, engine in databases(which):
        run(name, engine, rows)


if __name__ == "__main__":
    main()

"""What formula columns of subforms cost when records are written, against a baseline in
the same run: creating R records of L lines each (default 200 x 5) in one call

- with `line_total: ROUND(quantity * unit_price, 2)` on each line and the record's
  `total: SUM(items.line_total)`,
- against the same records where `total` is `SUMPRODUCT(items.quantity, items.unit_price)`
  and the lines compute nothing,

measured alternately (each create rolled back, so the tables stay as they were), with
the statements each costs (they must be equal: a row formula costs none). Then a
migration adding `line_total` to a table of M lines (default 100,000): lines per second.

    .venv/bin/python bench/bench_row_formulas.py [--records 200] [--lines 5] [--migrate 100000]
                                                 [--db both|sqlite|postgresql]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import Counter, L, databases, paired  # noqa: E402
from engine.definition.model import AppDef  # noqa: E402
from runtime.apps import apply_app  # noqa: E402
from runtime.records import Records  # noqa: E402


def app_doc(key: str, row_formula: bool) -> dict:
    columns = [{"key": "product", "type": "text", "label": L("产品")},
               {"key": "quantity", "type": "number", "label": L("数量"), "precision": 0},
               {"key": "unit_price", "type": "number", "label": L("单价"), "precision": 2}]
    if row_formula:
        columns.append({"key": "line_total", "type": "formula", "label": L("小计"),
                        "formula": "ROUND(quantity * unit_price, 2)", "precision": 2})
    total = "SUM(items.line_total)" if row_formula else "SUMPRODUCT(items.quantity, items.unit_price)"
    return {"format_version": 1, "app": {"key": key, "label": L(key)}, "forms": [{
        "key": "orders", "label": L("订单"), "fields": [
            {"key": "title", "type": "text", "label": L("标题")},
            {"key": "items", "type": "subform", "label": L("明细"), "fields": columns},
            {"key": "total", "type": "formula", "label": L("合计"), "formula": total, "precision": 2}]}]}


def records(count: int, lines: int) -> list[dict]:
    return [{"title": f"订单{i}", "items": [{"product": f"产品{j}", "quantity": 1 + (i + j) % 9,
                                           "unit_price": f"{(i * 7 + j) % 500}.{j % 100:02d}"}
                                          for j in range(lines)]} for i in range(count)]


def create(engine, app, rows):
    def run():
        with engine.connect() as conn:
            transaction = conn.begin()
            Records(conn, app).create_many("orders", rows, skip_invalid=False)
            transaction.rollback()
    return run


def statements(engine, app, rows) -> int:
    with Counter(engine) as counter:
        create(engine, app, rows)()
    return counter.count


def migrate(engine, lines: int, per_record: int = 5) -> None:
    plain, full = AppDef.from_dict(app_doc("grow", False)), AppDef.from_dict(app_doc("grow", True))
    apply_app(engine, plain)
    batch = records(2000, per_record)
    with engine.begin() as conn:
        writer = Records(conn, plain)
        for _ in range(max(1, lines // (2000 * per_record))):
            writer.create_many("orders", batch, skip_invalid=False)
    start = time.perf_counter()
    result = apply_app(engine, full)
    seconds = time.perf_counter() - start
    step = next(r for r in result["results"] if r["step"] == "recompute_subform")
    rows = step["changed"]["line_total"]
    print(f"  migration adding line_total: {rows:,} lines recomputed (and the totals) in {seconds:.2f} s, "
          f"{rows / seconds:,.0f} lines/s for the whole apply")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=200)
    parser.add_argument("--lines", type=int, default=5)
    parser.add_argument("--migrate", type=int, default=100_000)
    parser.add_argument("--db", default="both", choices=["both", "sqlite", "postgresql"])
    args = parser.parse_args()
    rows = records(args.records, args.lines)
    for name, engine in databases(args.db):
        ours, base = AppDef.from_dict(app_doc("rowf", True)), AppDef.from_dict(app_doc("plain", False))
        apply_app(engine, ours)
        apply_app(engine, base)
        print(f"{name}: create {args.records} records x {args.lines} lines in one call")
        print(f"  statements: {statements(engine, ours, rows)} with line_total, "
              f"{statements(engine, base, rows)} without")
        timings = paired(create(engine, ours, rows), create(engine, base, rows), repeat=15, warmup=2)
        print(f"  line_total + SUM: {timings.describe('SUMPRODUCT, no row formula')}")
        if args.migrate:
            migrate(engine, args.migrate, args.lines)


if __name__ == "__main__":
    main()

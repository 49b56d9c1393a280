"""What computing a clock-dependent formula field when read costs: pages of 50 customers
out of N (default 100,000), each measured against a baseline in the same run.

- a page showing `days_since` (DAYS(TODAY(), last_contact), computed in SQL with the
  reader's date) against the same page with the field left out (fields=...);
- a page filtered and sorted by `days_since` (> 30, most overdue first) against the same
  records filtered and sorted by the stored date (`last_contact` before today - 30,
  oldest first), which an index serves: the live value has no index, so the database
  computes it for every record the filter looks at.

    .venv/bin/python bench/bench_live_formulas.py [--rows 100000] [--db both|sqlite|postgresql]
"""
from __future__ import annotations

import random
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import Counter, L, databases, paired, rows_and_databases  # noqa: E402
from engine.compiled import compiled  # noqa: E402
from engine.definition.model import AppDef  # noqa: E402
from engine.fields.base import DEFAULT_TZ  # noqa: E402
from runtime.apps import apply_app  # noqa: E402
from runtime.records import Records  # noqa: E402


APP = {
    "format_version": 1, "app": {"key": "care", "label": L("care")},
    "forms": [{"key": "customers", "label": L("客户"), "title_field": "name", "fields": [
        {"key": "name", "type": "text", "label": L("名称")},
        {"key": "last_contact", "type": "date", "label": L("最近联系"), "index": True},
        {"key": "days_since", "type": "formula", "label": L("距今天数"),
         "formula": "DAYS(TODAY(), last_contact)", "precision": 0},
    ]}],
}


def populate(engine, app, rows: int, today: date) -> None:
    table = compiled(app).tables.form_table("customers")
    now = datetime.now(timezone.utc)
    rnd = random.Random(7)
    for start in range(0, rows, 20_000):
        batch = []
        for i in range(start, min(rows, start + 20_000)):
            contact = today - timedelta(days=rnd.randint(0, 400))
            batch.append({"created_at": now, "updated_at": now, "version": 1, "name": f"客户{i}",
                          "last_contact": contact, "days_since": (today - contact).days})
        with engine.begin() as conn:
            conn.execute(table.insert(), batch)
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")


def run(name, engine, rows):
    app = AppDef.from_dict(APP)
    apply_app(engine, app)
    now = datetime.now(timezone.utc)
    today = now.astimezone(DEFAULT_TZ).date()
    populate(engine, app, rows, today)
    with engine.connect() as conn:
        records = Records(conn, app, now=now)

        def shown(fields=None):
            return records.list("customers", sort="-id", page_size=50, with_count=False, fields=fields)

        def live_sorted():
            return records.list("customers", filter={"field": "days_since", "op": "gt", "value": 30},
                                sort="-days_since", page_size=50, with_count=False)

        def stored_sorted():
            return records.list("customers", filter={"field": "last_contact", "op": "lt",
                                                     "value": str(today - timedelta(days=30))},
                                sort="last_contact", page_size=50, with_count=False)
        assert [r["fields"]["days_since"] for r in live_sorted().records] == \
            [(today - r["fields"]["last_contact"]).days for r in stored_sorted().records]
        plain = paired(shown, lambda: shown(["name", "last_contact"]))
        sorted_ = paired(live_sorted, stored_sorted, repeat=11)
        with Counter(engine) as counter:
            live_sorted()
        count = records.count("customers", filter={"field": "days_since", "op": "gt", "value": 30})
    print(f"[{name}] page of 50 showing days_since (computed now): "
          f"{plain.describe('the same page without it')}")
    print(f"[{name}] filtered (> 30) and sorted by days_since: "
          f"{sorted_.describe('by the indexed stored date')}; statements: {counter.count}")
    print(f"[{name}] count of days_since > 30: {count.value:,} (exact={count.exact}, estimated={count.estimated})")


def main():
    rows, which = rows_and_databases(__doc__, 100_000)
    for name, engine in databases(which):
        run(name, engine, rows)


if __name__ == "__main__":
    main()

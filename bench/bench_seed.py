"""Seeding the CRM + referral app: records per second, form by form and in all, and
the ratio to a raw SQLAlchemy Core executemany of the same customer rows (read back
from the seeded table, inserted into a bare copy of it) measured in the same run.

    .venv/bin/python bench/bench_seed.py [--scale 100000] [--db sqlite|postgresql|both]

The seed goes through the record service (validation, serial numbers, reference and
unique checks, history); the baseline does none of that, and its table has no
secondary indexes, so the ratio is what that work costs. Wall-clock and CPU seconds
are both printed: on a busy machine compare CPU figures (SQLite works in-process).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from bench._common import databases  # noqa: E402
from engine.compiled import compiled  # noqa: E402
from engine.validation import load_definition  # noqa: E402
from runtime.apps import apply_app  # noqa: E402
from runtime.seed import seed_app  # noqa: E402

APP_FILE = Path(__file__).resolve().parent.parent / "apps" / "crm_referral.yaml"


class FormClock:
    """Seconds per form, from the seed's progress calls (one per batch written)."""

    def __init__(self):
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.last = (time.perf_counter(), time.process_time())

    def __call__(self, form: str, done: int) -> None:
        now = (time.perf_counter(), time.process_time())
        self.wall[form] = self.wall.get(form, 0.0) + now[0] - self.last[0]
        self.cpu[form] = self.cpu.get(form, 0.0) + now[1] - self.last[1]
        self.last = now


def raw_baseline(engine, app) -> tuple[int, float, float]:
    """Insert the seeded customer rows again, with Core executemany, into a bare copy."""
    table = compiled(app).tables.form_table("customers")
    bare = sa.Table("bench_raw_customers", sa.MetaData(),
                    *[sa.Column(c.name, c.type, primary_key=c.primary_key) for c in table.columns])
    with engine.begin() as conn:
        rows = [dict(r) for r in conn.execute(sa.select(table)).mappings()]
        bare.create(conn)
    wall, cpu = time.perf_counter(), time.process_time()
    with engine.begin() as conn:
        for start in range(0, len(rows), 10_000):
            conn.execute(bare.insert(), rows[start:start + 10_000])
    return len(rows), time.perf_counter() - wall, time.process_time() - cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--db", default="sqlite", choices=["both", "sqlite", "postgresql"])
    args = parser.parse_args()
    for name, engine in databases(args.db):
        app = load_definition(APP_FILE)
        apply_app(engine, app)
        clock = FormClock()
        wall, cpu = time.perf_counter(), time.process_time()
        counts = seed_app(engine, "crm_referral", args.scale, seed=args.seed, progress=clock)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        records = sum(v for k, v in counts.items() if k != "users")
        print(f"[{name}] seed --scale {args.scale:,}: {records:,} records in {wall:.1f}s wall "
              f"({records / wall:,.0f}/s), {cpu:.1f}s cpu ({records / cpu:,.0f}/s)")
        print(f"[{name}]   (the first form's time includes making the organisation)")
        for form, count in counts.items():
            if form in clock.wall:
                print(f"[{name}]   {form:<20} {count:>9,}  {count / clock.wall[form]:>8,.0f}/s wall  "
                      f"{count / clock.cpu[form]:>8,.0f}/s cpu")
        rows, raw_wall, raw_cpu = raw_baseline(engine, app)
        print(f"[{name}] raw Core executemany of the {rows:,} customer rows: {rows / raw_wall:,.0f}/s wall, "
              f"{rows / raw_cpu:,.0f}/s cpu; seeding customers took "
              f"{clock.wall['customers'] / raw_wall:.1f}x (wall), {clock.cpu['customers'] / raw_cpu:.1f}x (cpu)")


if __name__ == "__main__":
    main()

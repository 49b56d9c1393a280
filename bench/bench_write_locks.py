"""What locking ahead costs (Upkeep.lock_ahead: a write locks the records whose rollups
it updates, at every level, in one order, so concurrent writes reaching each other's
records do not deadlock): statements and time of writes on the flagship after a seed,
with locking ahead and without it (the baseline), measured alternately in the same run.
Each write runs in a transaction that is rolled back, so every run writes the same.

    .venv/bin/python bench/bench_write_locks.py [--scale 200] [--db both|sqlite|postgresql]

SQLite locks nothing ahead (one writer at a time): its figures show that nothing changed.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import Counter, databases, paired  # noqa: E402
from engine.compiled import compiled  # noqa: E402
from engine.upkeep.upkeep import Upkeep  # noqa: E402
from engine.validation import load_definition  # noqa: E402
from runtime.apps import apply_app  # noqa: E402
from runtime.records import Records  # noqa: E402
from runtime.seed import seed_app  # noqa: E402

APP_FILE = Path(__file__).resolve().parent.parent / "apps" / "crm_referral.yaml"


def writes(engine, app) -> dict:
    """Writes of the flagship that reach records of other forms, on seeded records."""
    contracts, payments = compiled(app).tables.form_table("contracts"), compiled(app).tables.form_table("payments")
    with engine.connect() as conn:
        contract = conn.execute(sa.select(contracts.c.id, contracts.c.customer, contracts.c.amount).where(
            contracts.c.customer.is_not(None), contracts.c.status == "executing").order_by(contracts.c.id)).first()
        payment = conn.execute(sa.select(payments.c.id).where(payments.c.deleted_at.is_(None))
                               .order_by(payments.c.id)).scalar()
    with engine.begin() as conn:    # room for one more payment (the seed pays contracts in full)
        Records(conn, app).update("contracts", contract.id, {"amount": contract.amount + 1000})
    return {
        "create a payment": lambda r: r.create("payments", {
            "contract": contract.id, "customer": contract.customer, "amount": 1, "paid_on": "2030-01-02"}),
        "change a payment's amount": lambda r: r.update("payments", payment, {"amount": 2}),
        "delete a payment": lambda r: r.delete("payments", payment),
        "change a contract's title": lambda r: r.update("contracts", contract.id, {"title": "bench"}),
    }


def rolled_back(engine, app, write):
    def run():
        with engine.connect() as conn:
            transaction = conn.begin()
            write(Records(conn, app))
            transaction.rollback()
    return run


def statements(engine, run) -> int:
    with Counter(engine) as counter:
        run()
    return counter.count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=200)
    parser.add_argument("--db", default="both")
    args = parser.parse_args()
    ahead = Upkeep.lock_ahead
    for name, engine in databases(args.db):
        app = load_definition(APP_FILE)
        apply_app(engine, app)
        seed_app(engine, "crm_referral", args.scale, seed=7)
        print(f"== {name}, flagship seeded at scale {args.scale}")
        for label, write in writes(engine, app).items():
            run = rolled_back(engine, app, write)

            def without():
                Upkeep.lock_ahead = lambda *a, **k: None
                try:
                    run()
                finally:
                    Upkeep.lock_ahead = ahead
            counts = statements(engine, run), statements(engine, without)
            timing = paired(run, without, repeat=31)
            print(f"{label:28s} statements {counts[1]:3d} -> {counts[0]:3d}; "
                  f"{timing.describe('without locking ahead')}")


if __name__ == "__main__":
    main()

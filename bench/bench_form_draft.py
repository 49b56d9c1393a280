"""What a form page pays for one live evaluation while the user types: evaluate_draft on
the flagship's contract form (a customer chosen, 20 item rows with their row formula,
the items total, the unpaid amount, its rules judged), against a save-free baseline measured
alternately in the same run: reading the chosen customer by id (`Records.get`). Also
the statements each call sends.

    .venv/bin/python bench/bench_form_draft.py [--db both|sqlite|postgresql] [--rows 20]
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from bench._common import Counter, databases, paired, rows_and_databases  # noqa: E402
from engine.validation import load_definition  # noqa: E402
from runtime.apps import apply_app  # noqa: E402
from runtime.forms import evaluate_draft  # noqa: E402
from runtime.seed import seed_app  # noqa: E402
from runtime.session import Session  # noqa: E402

APP_FILE = Path(__file__).resolve().parent.parent / "apps" / "crm_referral.yaml"


def measure(name: str, engine, rows: int) -> None:
    apply_app(engine, load_definition(APP_FILE))
    seed_app(engine, "crm_referral", 20)
    session = Session(engine)
    with session.read() as uow:
        records = uow.records("crm_referral")
        customers = records.app.tables.form_table("customers")
        customer = uow.conn.execute(sa.select(sa.func.min(customers.c.id))).scalar_one()
        values = {"title": "年度框架合同", "customer": str(customer), "amount": "120000.00",
                  "signed_on": "2026-03-01", "status": "executing",
                  "items": [{"product": f"产品{i}", "quantity": str(i + 1), "unit_price": "99.50"}
                            for i in range(rows)]}

        def draft():
            return evaluate_draft(uow, "crm_referral", "contracts", values, changed="items").as_dict("zh")

        with Counter(engine) as counted:
            out = draft()
        timings = paired(draft, lambda: records.get("customers", customer))
        print(f"[{name}] draft of a contract ({rows} item rows, a customer chosen): "
              f"{timings.describe('Records.get of the customer')}; {counted.count} statement(s); "
              f"items_total {out['values'].get('items_total')}, {len(out['issues'])} issue path(s)")


def main() -> None:
    rows, which = rows_and_databases(__doc__.splitlines()[0], 20)
    for name, engine in databases(which):
        measure(name, engine, rows)


if __name__ == "__main__":
    main()

"""Rollup upkeep after updating many child records: the engine's upkeep against a
hand-written set-based SQL recompute of the same fields, measured in the same run.

    .venv/bin/python bench/bench_rollup.py [--children 10000] [--db sqlite|postgresql|both]

The app: customers <- contracts <- payments, with contracts.paid (a filtered sum of
payments), contracts.unpaid (a formula: amount - paid) and customers.ltv (a sum of
payments). Each round changes the amount of every payment with one raw UPDATE (not
timed), then either

- ours: the upkeep the record service runs after a bulk update of those payments
  (Upkeep.after_update): rollups of the affected contracts and customers, then the
  contracts' formula, each recomputed once for all of them; or
- baseline: three hand-written statements a DBA would write: UPDATE contracts SET
  paid = (SELECT SUM ...), UPDATE contracts SET unpaid = amount - paid, UPDATE
  customers SET ltv = (SELECT SUM ...), each for the parents of the changed payments.

Only the recompute itself is timed. Rounds alternate, so a busy machine slows both
alike; both leave the same totals (checked). Printed: records, median ms of each, statements of each,
and the ratio. For context, one full bulk_update through the record service is timed
too (its per-record UPDATE with the optimistic lock is most of its cost).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from bench._common import Counter, databases  # noqa: E402
from engine.compiled import compiled  # noqa: E402
from engine.dialect import Dialect  # noqa: E402
from engine.upkeep.idsets import among  # noqa: E402
from engine.upkeep.upkeep import Upkeep  # noqa: E402
from engine.validation.validate import check_text  # noqa: E402
from runtime.apps import apply_app  # noqa: E402
from runtime.records import Records  # noqa: E402

DEFINITION = """
format_version: 1
app: {key: bench, label: {zh: 基准, en: Bench}}
forms:
  - key: customers
    label: {zh: 客户, en: Customers}
    fields:
      - {key: name, type: text, label: {zh: 名称, en: Name}}
      - {key: ltv, type: rollup, label: {zh: 累计回款, en: LTV}, source: payments, via: customer,
         aggregate: sum, field: amount}
  - key: contracts
    label: {zh: 合同, en: Contracts}
    fields:
      - {key: title, type: text, label: {zh: 标题, en: Title}}
      - {key: customer, type: relation, target: customers, label: {zh: 客户, en: Customer}}
      - {key: amount, type: number, label: {zh: 金额, en: Amount}}
      - {key: paid, type: rollup, label: {zh: 已回款, en: Paid}, source: payments, via: contract,
         aggregate: sum, field: amount, filter: {field: status, op: eq, value: confirmed}}
      - {key: unpaid, type: formula, label: {zh: 未回款, en: Unpaid}, formula: 'amount - paid'}
  - key: payments
    label: {zh: 回款, en: Payments}
    fields:
      - {key: contract, type: relation, target: contracts, label: {zh: 合同, en: Contract}}
      - {key: customer, type: relation, target: customers, label: {zh: 客户, en: Customer}}
      - {key: amount, type: number, label: {zh: 金额, en: Amount}}
      - {key: status, type: select, label: {zh: 状态, en: Status}, options: [confirmed, pending],
         default: confirmed}
"""


def build(engine, children: int):
    app, problems = check_text(DEFINITION)
    assert not problems, problems
    apply_app(engine, app)
    contracts_n, customers_n = max(children // 5, 1), max(children // 10, 1)
    with engine.begin() as conn:
        r = Records(conn, app)
        customers = []
        for start in range(0, customers_n, 5000):
            customers += [c["id"] for c in r.bulk_create("customers", [
                {"name": f"c{i}"} for i in range(start, min(start + 5000, customers_n))])]
        contracts = []
        for start in range(0, contracts_n, 5000):
            contracts += r.create_many("contracts", [
                {"title": f"k{i}", "customer": customers[i % customers_n], "amount": 100000}
                for i in range(start, min(start + 5000, contracts_n))], skip_invalid=False)[0]
        payments = []
        for start in range(0, children, 5000):
            payments += r.create_many("payments", [
                {"contract": contracts[i % contracts_n], "customer": customers[i % customers_n], "amount": 10,
                 "status": "confirmed" if i % 4 else "pending"}
                for i in range(start, min(start + 5000, children))], skip_invalid=False)[0]
    return app, payments


def hand_written(conn, tables, payment_ids: list[int]) -> int:
    """The same recompute as a DBA would write it: three set-based statements."""
    payments, contracts, customers = (tables.form_table(k) for k in ("payments", "contracts", "customers"))
    # The changed ids are bound the way the engine binds them (one array or JSON parameter),
    # so the comparison is about the recompute, not about binding 10,000 placeholders.
    dialect = Dialect.of(conn)
    changed = sa.select(payments.c.id).where(among(payments.c.id, payment_ids, dialect))
    p = payments.alias("p")
    paid = sa.select(sa.func.coalesce(sa.func.sum(p.c.amount), 0)).where(
        p.c.contract == contracts.c.id, p.c.deleted_at.is_(None), p.c.status == "confirmed").scalar_subquery()
    parents = sa.select(payments.c.contract).where(payments.c.id.in_(changed))
    conn.execute(contracts.update().where(contracts.c.id.in_(parents)).values(paid=paid))
    conn.execute(contracts.update().where(contracts.c.id.in_(parents)).values(
        unpaid=sa.type_coerce(contracts.c.amount, sa.BigInteger) - sa.type_coerce(contracts.c.paid, sa.BigInteger)
        if dialect.scaled_numbers else contracts.c.amount - contracts.c.paid))
    ltv = sa.select(sa.func.coalesce(sa.func.sum(p.c.amount), 0)).where(
        p.c.customer == customers.c.id, p.c.deleted_at.is_(None)).scalar_subquery()
    owners = sa.select(payments.c.customer).where(payments.c.id.in_(changed))
    conn.execute(customers.update().where(customers.c.id.in_(owners)).values(ltv=ltv))
    return 3


def snapshot(conn, tables) -> tuple:
    contracts, customers = tables.form_table("contracts"), tables.form_table("customers")
    return (conn.execute(sa.select(sa.func.sum(contracts.c.paid), sa.func.sum(contracts.c.unpaid))).one(),
            conn.execute(sa.select(sa.func.sum(customers.c.ltv))).one())


def run(name: str, engine, children: int, repeat: int) -> None:
    started = time.perf_counter()
    app, payments = build(engine, children)
    print(f"{name}: built {children:,} payments in {time.perf_counter() - started:.1f} s")
    tables = compiled(app).tables
    table = tables.form_table("payments")
    results = {}

    def change(conn):
        conn.execute(table.update().values(amount=table.c.amount + 1))   # raw: no upkeep

    def ours() -> float:
        with engine.begin() as conn:
            change(conn)
            upkeep = Upkeep(conn, compiled(app), Records(conn, app).ctx)
            with Counter(engine) as counter:
                start = time.perf_counter()
                upkeep.after_update(app.require_form("payments"), {p: {"amount"} for p in payments}, {})
                elapsed = time.perf_counter() - start
            results["ours"] = (counter.count, snapshot(conn, tables))
        return elapsed

    def baseline() -> float:
        with engine.begin() as conn:
            change(conn)
            with Counter(engine) as counter:
                start = time.perf_counter()
                hand_written(conn, tables, payments)
                elapsed = time.perf_counter() - start
            results["baseline"] = (counter.count, snapshot(conn, tables))
        return elapsed

    ours(), baseline()          # warm up
    timings: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):     # alternately, so a busy machine slows both alike
        timings[0].append(ours() * 1000)
        timings[1].append(baseline() * 1000)
    ours_ms, base_ms = statistics.median(timings[0]), statistics.median(timings[1])
    # Check the answers: one more round of ours, then the hand-written recompute over the
    # same data must leave every total as it is.
    ours()
    expected = results["ours"][1]
    with engine.begin() as conn:
        hand_written(conn, tables, payments)
        assert snapshot(conn, tables) == expected, (snapshot(conn, tables), expected)
    print(f"{name}: upkeep of {children:,} changed payments: ours {ours_ms:,.0f} ms "
          f"({results['ours'][0]} statements), hand-written SQL {base_ms:,.0f} ms "
          f"({results['baseline'][0]} statements); ratio {ours_ms / base_ms:.2f}x")
    some = payments[:1000]
    with engine.begin() as conn, Counter(engine) as counter:
        start = time.perf_counter()
        Records(conn, app).bulk_update("payments", [{"id": p, "changes": {"amount": 7}} for p in some])
        whole = time.perf_counter() - start
    print(f"{name}: for context, bulk_update of {len(some):,} payments through the record service: "
          f"{whole * 1000:,.0f} ms, {counter.count:,} statements (the changed rows in one executemany, "
          "each guarded by its version)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--children", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    for name, engine in databases(args.db):
        run(name, engine, args.children, args.repeat)


if __name__ == "__main__":
    main()

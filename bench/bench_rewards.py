"""Settling referral rewards: runtime/rewards' settle job against a hand-written SQL
computation of the same amounts, in the same run.

    .venv/bin/python bench/bench_rewards.py [--rows 10000] [--db sqlite|postgresql|both] [--batch 500]

The app: customers in groups of 12, a chain 0 -> 1 -> 2 -> 3 -> 4 -> 5 (five referrals
deep) and six more friends of 0 (so 0 earns seven rewards: tiers, the milestone), one
paid contract each. Two rules: the referrer's
share (5%, 8% from their 5th reward of the year, a 200 bonus at the 3rd, capped at 3,000
per referral) and the referrer's referrer's 1% (the one indirect level). Then

- ours: settle_records over `--batch` contracts per transaction, set-based (per batch:
  the records read in one statement, the chains by one recursive CTE, the entries looked
  up, the counters made and locked, the entries computed in Python with their
  explanations, inserted by one INSERT ... ON CONFLICT DO NOTHING, the counters moved);
- baseline: one SELECT a DBA would write: the chain by self-joins, nth by ROW_NUMBER()
  over each referrer's contracts, the tier, bonus and cap by CASE, for both rules.

Both give the same entries and the same total (checked). Printed: entries, seconds and
entries per second of each, statements per entry of ours, and the ratio.
"""
from __future__ import annotations

import argparse
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from bench._common import Counter, databases  # noqa: E402
from engine.compiled import compiled  # noqa: E402
from engine.dialect import Dialect  # noqa: E402
from engine.storage import system  # noqa: E402
from engine.validation.validate import check_text  # noqa: E402
from runtime.apps import apply_app  # noqa: E402
from runtime.records import Records  # noqa: E402
from runtime.rewards import settle_records  # noqa: E402
from runtime.session import Session  # noqa: E402

GROUP = 12          # customers 0 -> 1 -> 2 -> 3 -> 4 -> 5 (5 referrals deep), and 0 -> 6..11


def referrer_in_group(g: int) -> int | None:
    """Whom the g-th customer of a group was referred by (its index in the group)."""
    return None if g == 0 else g - 1 if g < 6 else 0
DEFINITION = """
format_version: 1
app: {key: bench, label: {zh: 基准, en: Bench}}
forms:
  - key: customers
    label: {zh: 客户, en: Customers}
    fields:
      - {key: name, type: text, label: {zh: 名称, en: Name}}
      - {key: referrer, type: relation, target: customers, label: {zh: 推荐人, en: Referrer}}
  - key: contracts
    label: {zh: 合同, en: Contracts}
    fields:
      - {key: customer, type: relation, target: customers, label: {zh: 客户, en: Customer}}
      - {key: amount, type: number, precision: 2, label: {zh: 金额, en: Amount}}
      - {key: paid, type: switch, label: {zh: 已付, en: Paid}}
      - {key: paid_on, type: date, label: {zh: 付款日, en: Paid on}}
rewards:
  - key: share
    label: {zh: 分成, en: Share}
    source: contracts
    customer: customer
    when: paid
    date: paid_on
    beneficiary: referrer
    amount: ROUND(amount * rate, 2)
    tiers: {period: year, steps: [{from: 1, rate: 0.05}, {from: 5, rate: 0.08}]}
    milestones: [{at: 3, bonus: 200}]
    caps: {per_referral: 3000}
  - key: grand
    label: {zh: 间接, en: Indirect}
    source: contracts
    customer: customer
    when: paid
    date: paid_on
    beneficiary: indirect
    allow_indirect: true
    amount: ROUND(amount * 0.01, 2)
"""


def build(engine, rows: int):
    app, problems = check_text(DEFINITION)
    assert not problems, problems
    apply_app(engine, app)
    with engine.begin() as conn:
        r = Records(conn, app)
        customers = [c["id"] for c in r.bulk_create("customers", [{"name": f"c{i}"} for i in range(rows)])]
        table = compiled(app).tables.form_table("customers")
        column = table.c[compiled(app).types.of(app.form("customers").field("referrer")).columns()[0].name]
        for i, cid in enumerate(customers):      # raw: the chains are the data, not the measure
            up = referrer_in_group(i % GROUP)
            if up is not None and i - i % GROUP + up < len(customers):
                conn.execute(table.update().where(table.c.id == cid).values({column: customers[i - i % GROUP + up]}))
        contracts = r.create_many("contracts", [
            {"customer": customers[i], "amount": Decimal(1000 + (i * 7919) % 90000 // 100 * 100), "paid": True,
             "paid_on": "2026-03-01"} for i in range(rows)], skip_invalid=False)[0]
    return compiled(app), sorted(contracts)


def hand_written(conn, app) -> tuple[int, Decimal]:
    """Both rules' entries by one SELECT each: (entries, total)."""
    customers, contracts = app.tables.form_table("customers"), app.tables.form_table("contracts")
    ref = customers.c[app.types.of(app.require_form("customers").field("referrer")).columns()[0].name]
    cust = contracts.c[app.types.of(app.require_form("contracts").field("customer")).columns()[0].name]
    amount = contracts.c[app.types.of(app.require_form("contracts").field("amount")).columns()[0].name]
    scaled = Dialect.of(conn).scaled_numbers
    yuan = (sa.cast(amount, sa.Numeric(20, 2)) / 100) if scaled else amount
    friend, up = customers.alias("friend"), customers.alias("up")
    nth = sa.func.row_number().over(partition_by=friend.c[ref.name], order_by=contracts.c.id)
    base = sa.select(contracts.c.id, yuan.label("amount"), friend.c[ref.name].label("referrer"), nth.label("nth"),
                     up.c[ref.name].label("grand")) \
        .join(friend, friend.c.id == cust).outerjoin(up, up.c.id == friend.c[ref.name]) \
        .where(friend.c[ref.name].isnot(None)).subquery()
    rate = sa.case((base.c.nth >= 5, sa.literal(Decimal("0.08"))), else_=sa.literal(Decimal("0.05")))
    raw = sa.func.round(base.c.amount * rate, 2) + sa.case((base.c.nth == 3, 200), else_=0)
    share = sa.case((raw > 3000, 3000), else_=raw)
    grand = sa.case((base.c.grand.isnot(None), sa.func.round(base.c.amount * Decimal("0.01"), 2)), else_=None)
    count, total_share, grands, total_grand = conn.execute(sa.select(
        sa.func.count(), sa.func.sum(share), sa.func.count(grand), sa.func.sum(grand))).one()
    return count + grands, Decimal(str(total_share)).quantize(Decimal("0.01")) + \
        Decimal(str(total_grand or 0)).quantize(Decimal("0.01"))


def run(name: str, engine, rows: int, batch: int) -> None:
    started = time.perf_counter()
    app, contracts = build(engine, rows)
    print(f"{name}: built {rows:,} customers in referral trees 5 deep and their paid contracts in "
          f"{time.perf_counter() - started:.1f} s")
    session = Session(engine)
    with Counter(engine) as counter:
        started = time.perf_counter()
        for start in range(0, len(contracts), batch):
            chunk = contracts[start:start + batch]
            session.write(lambda uow: settle_records(uow, "bench", "contracts", chunk))
        ours = time.perf_counter() - started
    with engine.connect() as conn:
        entries = system.reward_entries
        count, cents = conn.execute(sa.select(sa.func.count(), sa.func.sum(entries.c.amount_cents))).one()
    total = Decimal(cents) / 100
    started = time.perf_counter()
    with engine.connect() as conn:
        base_count, base_total = hand_written(conn, app)
    baseline = time.perf_counter() - started
    assert (count, total) == (base_count, base_total), ((count, total), (base_count, base_total))
    print(f"{name}: {count:,} entries, total {total}: ours {ours:.2f} s ({count / ours:,.0f} entries/s, "
          f"{counter.count} statements, {counter.count / -(-len(contracts) // batch):.0f} per batch of {batch}); hand-written SQL {baseline:.3f} s "
          f"({count / baseline:,.0f} entries/s); ratio {ours / baseline:,.0f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10000, help="paid contracts (and customers)")
    parser.add_argument("--db", default="both", choices=["both", "sqlite", "postgresql"])
    parser.add_argument("--batch", type=int, default=500, help="contracts settled per transaction")
    args = parser.parse_args()
    for name, engine in databases(args.db):
        run(name, engine, args.rows, args.batch)


if __name__ == "__main__":
    main()

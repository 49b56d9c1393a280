"""Rollups filtered by formula conditions, end to end through the record service on
SQLite and PostgreSQL: a change of a field the formula reads recomputes the rollup, and
a formula calling TODAY() makes the rollup date-dependent (`recompute --volatile`)."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from engine.compiled.app import compiled
from engine.computed.graph import Node
from engine.validation.validate import check_text
from runtime.apps import apply_app
from runtime.recompute import recompute_app
from runtime.records import Records

NOW = datetime(2025, 9, 15, 2, 30, tzinfo=timezone.utc)     # 10:30 on 15 September in Shanghai

DEFINITION = """
format_version: 1
app: {key: ledger, label: {zh: 台账, en: Ledger}}
forms:
  - key: contracts
    label: {zh: 合同, en: Contracts}
    title_field: title
    fields:
      - {key: title, type: text, label: {zh: 标题, en: Title}, required: true}
      - key: paid_ok
        type: rollup
        label: {zh: 已确认回款, en: Confirmed}
        source: payments
        via: contract
        aggregate: sum
        field: amount
        filter: {formula: 'status = "ok"'}
      - key: large_ok
        type: rollup
        label: {zh: 大额确认笔数, en: Large confirmed}
        source: payments
        via: contract
        aggregate: count
        filter: {and: [{field: amount, op: gte, value: 100}, {not: {formula: 'note = "void"'}},
                       {or: [{formula: 'status = "ok"'}]}]}
      - key: paid_recently
        type: rollup
        label: {zh: 近30天回款, en: Paid in the last 30 days}
        source: payments
        via: contract
        aggregate: sum
        field: amount
        filter: {formula: 'paid_on >= TODAY() - 30'}
      - {key: recent_share, type: formula, label: {zh: 近期占比, en: Recent share},
         formula: 'IF(paid_ok = 0, 0, paid_recently / paid_ok)', precision: 2}
  - key: payments
    label: {zh: 回款, en: Payments}
    fields:
      - {key: contract, type: relation, target: contracts, label: {zh: 合同, en: Contract}}
      - {key: amount, type: number, label: {zh: 金额, en: Amount}, precision: 2}
      - {key: paid_on, type: date, label: {zh: 回款日期, en: Paid on}}
      - {key: note, type: text, label: {zh: 备注, en: Note}}
      - key: status
        type: select
        label: {zh: 状态, en: Status}
        options: [ok, pending]
        default: ok
"""


@pytest.fixture
def ledger(db):
    app, problems = check_text(DEFINITION, "ledger.yaml")
    assert not problems, "\n".join(p.format() for p in problems)
    apply_app(db, app)
    return db, app


def contract_fields(records, contract_id):
    return records.get("contracts", contract_id)["fields"]


def test_a_rollup_follows_the_fields_its_formula_filter_reads(ledger):
    db, app = ledger
    graph = compiled(app).graph
    assert {Node("contracts", "paid_ok"), Node("contracts", "large_ok")} <= graph.readers_of({("payments", "status")})
    assert Node("contracts", "large_ok") in graph.readers_of({("payments", "note")})
    with db.begin() as conn:
        records = Records(conn, app, now=NOW)
        contract = records.create("contracts", {"title": "K1"})["id"]
        first = records.create("payments", {"contract": contract, "amount": "300", "paid_on": "2025-09-01"})["id"]
        records.create("payments", {"contract": contract, "amount": "50", "paid_on": "2025-09-02"})
        fields = contract_fields(records, contract)
        assert (fields["paid_ok"], fields["large_ok"]) == (Decimal("350.00"), Decimal(1))

        records.update("payments", first, {"status": "pending"})      # only the formula reads status
        fields = contract_fields(records, contract)
        assert (fields["paid_ok"], fields["large_ok"]) == (Decimal("50.00"), Decimal(0))

        records.update("payments", first, {"status": "ok", "note": "void"})   # read inside not
        fields = contract_fields(records, contract)
        assert (fields["paid_ok"], fields["large_ok"]) == (Decimal("350.00"), Decimal(0))

        records.update("payments", first, {"note": "paid by wire"})
        assert contract_fields(records, contract)["large_ok"] == Decimal(1)


def test_a_formula_filter_calling_today_is_recomputed_by_recompute_volatile(ledger):
    db, app = ledger
    graph = compiled(app).graph
    assert Node("contracts", "paid_recently") in graph.volatile
    assert Node("contracts", "recent_share") in graph.volatile         # it reads the rollup
    assert Node("contracts", "paid_ok") not in graph.volatile
    with db.begin() as conn:
        records = Records(conn, app, now=NOW)
        contract = records.create("contracts", {"title": "K1"})["id"]
        records.create("payments", {"contract": contract, "amount": "300", "paid_on": "2025-09-01"})
        records.create("payments", {"contract": contract, "amount": "100", "paid_on": "2025-07-01"})
        fields = contract_fields(records, contract)
        assert (fields["paid_ok"], fields["paid_recently"], fields["recent_share"]) == \
            (Decimal("400.00"), Decimal("300.00"), Decimal("0.75"))

    later = NOW + timedelta(days=20)        # 5 October: the payment of 1 September is past 30 days
    result = recompute_app(db, "ledger", volatile=True, now=later)
    assert result["fields"] == ["contracts.paid_recently", "contracts.recent_share"]
    assert result["changed"] == {"contracts.paid_recently": 1, "contracts.recent_share": 1}
    with db.connect() as conn:
        fields = contract_fields(Records(conn, app, now=later), contract)
    assert (fields["paid_ok"], fields["paid_recently"], fields["recent_share"]) == \
        (Decimal("400.00"), Decimal("0.00"), Decimal("0.00"))

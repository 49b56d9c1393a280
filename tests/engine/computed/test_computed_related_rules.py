"""Rules judged again when another record changes a computed field they read: a
contract's `received <= amount` refuses the payment that would break it, on SQLite and
PostgreSQL, leaving nothing of the refused write behind."""
from __future__ import annotations

from decimal import Decimal

import pytest

from engine.compiled.app import compiled
from engine.errors import RecordValidationError
from engine.validation.validate import check_text
from runtime.apps import apply_app
from runtime.records import Records

DEFINITION = """
format_version: 1
app: {key: billing, label: {zh: 回款, en: Billing}}
forms:
  - key: customers
    label: {zh: 客户, en: Customers}
    title_field: name
    rules:
      - key: credit_limit
        formula: OR(ISBLANK(credit_limit), unpaid <= credit_limit)
        message: {zh: 未回款不能超过信用额度, en: Unpaid amounts cannot exceed the credit limit}
    fields:
      - {key: name, type: text, label: {zh: 名称, en: Name}, required: true}
      - {key: credit_limit, type: number, label: {zh: 信用额度, en: Credit limit}, precision: 2}
      - {key: unpaid, type: rollup, label: {zh: 未回款, en: Unpaid}, source: contracts, via: customer,
         aggregate: sum, field: unpaid}
  - key: contracts
    label: {zh: 合同, en: Contracts}
    title_field: title
    rules:
      - key: not_overpaid
        formula: received <= amount
        message: {zh: 回款合计不能超过合同金额, en: Payments cannot add up to more than the contract amount}
        fields: [amount]
    fields:
      - {key: title, type: text, label: {zh: 合同名称, en: Title}, required: true}
      - {key: customer, type: relation, target: customers, label: {zh: 客户, en: Customer}}
      - {key: amount, type: number, label: {zh: 金额, en: Amount}, precision: 2}
      - {key: received, type: rollup, label: {zh: 已回款, en: Received}, source: payments, via: contract,
         aggregate: sum, field: amount}
      - {key: unpaid, type: formula, label: {zh: 未回款, en: Unpaid}, formula: amount - received, precision: 2}
  - key: payments
    label: {zh: 回款, en: Payments}
    fields:
      - {key: contract, type: relation, target: contracts, label: {zh: 合同, en: Contract}}
      - {key: amount, type: number, label: {zh: 金额, en: Amount}, precision: 2}
"""


@pytest.fixture
def billing(db):
    app, problems = check_text(DEFINITION, "billing.yaml")
    assert problems == []
    apply_app(db, app)
    with db.begin() as conn:
        records = Records(conn, app)
        customer = records.create("customers", {"name": "华东贸易"})
        contract = records.create("contracts", {"title": "HT-001", "customer": customer["id"], "amount": "1000"})
    return db, app, customer["id"], contract["id"]


def _contract(db, app, cid):
    with db.begin() as conn:
        return Records(conn, app).get("contracts", cid)["fields"]


def _payments(db, app):
    with db.begin() as conn:
        return Records(conn, app).count("payments").value


def test_a_payment_that_overpays_its_contract_is_refused_with_the_contracts_message(billing):
    db, app, customer, contract = billing
    with db.begin() as conn:
        Records(conn, app).create("payments", {"contract": contract, "amount": "600"})
    with pytest.raises(RecordValidationError) as refused:
        with db.begin() as conn:
            Records(conn, app).create("payments", {"contract": contract, "amount": "500"})
    issue, = refused.value.issues
    assert (issue.field, issue.code) == ("*", "related_rule_failed")
    assert issue.as_dict("en")["message"] == (
        'This change would break a rule of Contracts "HT-001": '
        "Payments cannot add up to more than the contract amount")
    assert issue.as_dict("zh")["message"] == "这次修改会使合同“HT-001”不满足规则：回款合计不能超过合同金额"
    assert _contract(db, app, contract)["received"] == Decimal("600.00")
    assert _payments(db, app) == 1


def test_an_update_and_a_bulk_create_are_judged_too(billing):
    db, app, customer, contract = billing
    with db.begin() as conn:
        payment = Records(conn, app).create("payments", {"contract": contract, "amount": "600"})
    with pytest.raises(RecordValidationError):
        with db.begin() as conn:
            Records(conn, app).update("payments", payment["id"], {"amount": "1000.01"})
    with pytest.raises(RecordValidationError):
        with db.begin() as conn:
            Records(conn, app).bulk_create("payments", [{"contract": contract, "amount": "200"}] * 3)
    with db.begin() as conn:
        Records(conn, app).update("payments", payment["id"], {"amount": "1000"})   # exactly the amount: fine
    assert _contract(db, app, contract)["received"] == Decimal("1000.00")


def test_the_refused_write_leaves_nothing_even_when_the_caller_goes_on(billing):
    db, app, customer, contract = billing
    with db.begin() as conn:
        records = Records(conn, app)
        with pytest.raises(RecordValidationError):
            records.create("payments", {"contract": contract, "amount": "1500"})
        records.create("payments", {"contract": contract, "amount": "300"})    # the same transaction goes on
    assert _payments(db, app) == 1
    fields = _contract(db, app, contract)
    assert (fields["received"], fields["unpaid"]) == (Decimal("300.00"), Decimal("700.00"))


def test_two_levels_up_a_customers_rule_refuses_a_contract(billing):
    db, app, customer, contract = billing
    with db.begin() as conn:
        Records(conn, app).update("customers", customer, {"credit_limit": "1500"})
    with pytest.raises(RecordValidationError) as refused:
        with db.begin() as conn:
            Records(conn, app).create("contracts", {"title": "HT-002", "customer": customer, "amount": "800"})
    assert refused.value.issues[0].params["record"] == "华东贸易"
    assert "Unpaid amounts cannot exceed the credit limit" in str(refused.value)
    with db.begin() as conn:    # a payment on the first contract lowers the unpaid amount: now it fits
        Records(conn, app).create("payments", {"contract": contract, "amount": "400"})
        Records(conn, app).create("contracts", {"title": "HT-002", "customer": customer, "amount": "800"})


def test_judging_costs_the_same_statements_for_2_and_8_contracts(billing, count_statements):
    db, app, customer, contract = billing
    with db.begin() as conn:
        records = Records(conn, app)
        contracts = [c["id"] for c in records.bulk_create("contracts", [
            {"title": f"HT-1{i}", "customer": customer, "amount": "1000"} for i in range(8)])]
        counts = []
        for targets in (contracts[:2], contracts):
            with count_statements(db) as statements:
                records.bulk_create("payments", [{"contract": c, "amount": "10"} for c in targets])
            counts.append(statements.count)
        with pytest.raises(RecordValidationError) as refused:    # one query finds every broken contract
            records.bulk_create("payments", [{"contract": c, "amount": "995"} for c in contracts])
    assert counts[0] == counts[1], counts
    assert sorted(i.params["record"] for i in refused.value.issues) == [f"HT-1{i}" for i in range(8)]


def test_an_import_reports_the_rows_that_would_overpay_and_keeps_the_others(billing, tmp_path):
    from runtime.import_export.importer import import_file
    db, app, customer, contract = billing
    source = tmp_path / "payments.csv"
    source.write_text("contract,amount\nHT-001,600\nHT-001,300\nHT-001,500\nHT-001,100\n", encoding="utf-8")
    dry = import_file(db, "billing", "payments", source, dry_run=True, lang="en")
    report = import_file(db, "billing", "payments", source, skip_bad_rows=True, lang="en")
    assert (dry.rows_refused, dry.rows_imported) == (1, 0)
    assert (report.rows_imported, report.rows_refused) == (3, 1)
    problem, = report.problems
    assert problem.row == 4 and "Payments cannot add up to more than the contract amount" in problem.reason
    assert _contract(db, app, contract)["received"] == Decimal("1000.00")


def test_a_record_that_already_broke_its_rule_does_not_block_writes_that_touch_it(billing):
    """A rule added by an upgrade (or a limit lowered) may find records already breaking it:
    the write that touches them is not refused for it, even when it makes things better."""
    db, app, customer, contract = billing
    with db.begin() as conn:      # written around the engine, as an older install would hold it
        table = compiled(app).tables.form_table("customers")
        conn.execute(table.update().where(table.c.id == customer).values(credit_limit=500))
    with db.begin() as conn:      # unpaid 1000 > 500 before; a payment of 300 lowers it to 700
        Records(conn, app).create("payments", {"contract": contract, "amount": "300"})
    with db.begin() as conn:      # and a new contract (the customer is over the limit already)
        Records(conn, app).create("contracts", {"title": "HT-003", "customer": customer, "amount": "50"})
    with db.connect() as conn:
        assert Records(conn, app).get("customers", customer)["fields"]["unpaid"] == Decimal("750.00")


def test_the_other_side_is_the_records_own_rule_lowering_the_amount_below_what_was_paid(billing):
    """The rule over the rollup holds whichever side changes: a payment is judged through
    it, and so is the contract's own amount, when the contract is saved."""
    db, app, customer, contract = billing
    with db.begin() as conn:
        records = Records(conn, app)
        records.update("contracts", contract, {"amount": "600"})
        records.create("payments", {"contract": contract, "amount": "600"})
        with pytest.raises(RecordValidationError) as refused:   # the contract would be overpaid
            records.update("contracts", contract, {"amount": "500"})
    assert [i.params["rule"] for i in refused.value.issues] == ["not_overpaid"]

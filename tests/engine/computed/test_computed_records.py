"""Computed fields kept current by the record service, on SQLite and PostgreSQL:
formulas on write, rollups and formulas across relations, deletes, restores and
purges, moving a record between parents, errors, and the statements it costs."""
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from engine.errors import RecordValidationError
from engine.formula import ErrorValue
from runtime.records import BulkValidationError, Records
from tests.support.computed_app import install_sales

NOW = datetime(2025, 9, 15, 2, 30, tzinfo=timezone.utc)     # 10:30 in Shanghai


@pytest.fixture
def sales(db):
    return db, install_sales(db)


def fields(records, form, rid):
    return records.get(form, rid)["fields"]


def make_world(r):
    """Two customers (B referred by A), one contract of A with two payments."""
    a = r.create("customers", {"name": "甲公司", "level": "vip"})
    b = r.create("customers", {"name": "乙公司", "referrer": a["id"]})
    tag = r.create("tags", {"name": "重点"})
    contract = r.create("contracts", {"title": "K1", "customer": a["id"], "amount": "1000", "tags": [tag["id"]],
                                      "items": [{"qty": 2, "price": "300"}, {"qty": 1, "price": "400"}]})
    p1 = r.create("payments", {"contract": contract["id"], "customer": a["id"], "amount": 300,
                               "paid_on": "2025-09-01"})
    p2 = r.create("payments", {"contract": contract["id"], "customer": a["id"], "amount": 200,
                               "paid_on": "2025-09-10"})
    return a["id"], b["id"], tag["id"], contract["id"], p1["id"], p2["id"]


def test_formulas_are_computed_on_create(sales):
    db, app = sales
    with db.begin() as conn:
        r = Records(conn, app, now=NOW)
        a, b, tag, contract, _, _ = make_world(r)
        k = fields(r, "contracts", contract)
        assert k["items_total"] == Decimal("1000.00")          # SUMPRODUCT over the subform
        assert k["starts_on"] == date(2025, 9, 15)              # default formula TODAY()
        assert k["ends_on"] == date(2026, 9, 15)                # default formula starts_on + 365
        assert k["tag_names"] == "重点"                          # through a multiple relation
        assert fields(r, "customers", b)["referrer_level"] == "vip"   # through a self relation
        assert fields(r, "tags", tag)["used_by"] == Decimal(1)        # rollup via a multiple relation


def test_a_payment_updates_contract_and_customer(sales):
    db, app = sales
    with db.begin() as conn:
        r = Records(conn, app, now=NOW)
        a, _, _, contract, p1, _ = make_world(r)
        k = fields(r, "contracts", contract)
        assert (k["paid"], k["unpaid"], k["paid_share"]) == (Decimal("500.00"), Decimal("500.00"),
                                                           Decimal("0.5000"))
        assert k["customer_tier"] == "silver-vip / vip"
        customer = fields(r, "customers", a)
        assert customer["ltv"] == Decimal("500.00")
        assert customer["unpaid_total"] == Decimal("500.00")           # a rollup of a formula
        assert customer["last_paid_on"] == date(2025, 9, 10)
        assert customer["contract_count"] == Decimal(1)
        assert customer["tier"] == "silver-vip"

        r.update("contracts", contract, {"amount": 20000})
        assert fields(r, "customers", a)["unpaid_total"] == Decimal("19500.00")
        r.update("payments", p1, {"amount": 9800})
        assert fields(r, "contracts", contract)["unpaid"] == Decimal("10000.00")
        customer = fields(r, "customers", a)
        assert (customer["ltv"], customer["unpaid_total"], customer["tier"]) == \
            (Decimal("10000.00"), Decimal("10000.00"), "gold-vip")
        # ...and the formula of the contract reading the customer's tier followed.
        assert fields(r, "contracts", contract)["customer_tier"] == "gold-vip / vip"


def test_rollup_filter_and_status_change(sales):
    db, app = sales
    with db.begin() as conn:
        r = Records(conn, app, now=NOW)
        a, _, _, contract, p1, _ = make_world(r)
        r.update("payments", p1, {"status": "pending"})        # the filter field changes
        assert fields(r, "contracts", contract)["paid"] == Decimal("200.00")
        assert fields(r, "customers", a)["ltv"] == Decimal("200.00")


def test_delete_restore_and_purge_children(sales):
    db, app = sales
    with db.begin() as conn:
        r = Records(conn, app, now=NOW)
        a, _, _, contract, p1, p2 = make_world(r)
        r.delete("payments", [p1, p2])
        k = fields(r, "contracts", contract)
        assert (k["paid"], k["unpaid"]) == (Decimal("0.00"), Decimal("1000.00"))
        assert fields(r, "customers", a)["last_paid_on"] is None
        r.restore("payments", [p2])
        assert fields(r, "contracts", contract)["paid"] == Decimal("200.00")
        assert fields(r, "customers", a)["ltv"] == Decimal("200.00")
        r.purge("payments", [p1])
        assert fields(r, "contracts", contract)["paid"] == Decimal("200.00")


def test_purging_a_parent_clears_what_read_it(sales):
    db, app = sales
    with db.begin() as conn:
        r = Records(conn, app, now=NOW)
        a, b, *_ = make_world(r)
        assert fields(r, "customers", a)["referrals"] == Decimal(1)
        assert fields(r, "customers", b)["referrer_level"] == "vip"
        r.delete("customers", [a])
        # A relation keeps pointing at a record in the recycle bin: formulas still read it.
        assert fields(r, "customers", b)["referrer_level"] == "vip"
        r.purge("customers", [a])
        assert fields(r, "customers", b)["referrer_level"] is None


def test_moving_a_child_between_parents(sales):
    db, app = sales
    with db.begin() as conn:
        r = Records(conn, app, now=NOW)
        a, b, _, contract, p1, p2 = make_world(r)
        other = r.create("contracts", {"title": "K2", "customer": b, "amount": 5000})["id"]
        r.bulk_update("payments", [{"id": p1, "changes": {"contract": other, "customer": b}}])
        assert fields(r, "contracts", contract)["paid"] == Decimal("200.00")     # the old parent
        assert fields(r, "contracts", other)["paid"] == Decimal("300.00")        # the new parent
        assert fields(r, "customers", a)["ltv"] == Decimal("200.00")
        assert fields(r, "customers", b)["ltv"] == Decimal("300.00")
        assert fields(r, "customers", b)["unpaid_total"] == Decimal("4700.00")
        # A multiple relation moves too: the tag leaves K1 for K2.
        tag = r.get("contracts", contract)["fields"]["tags"][0]
        r.update("contracts", contract, {"tags": []})
        r.update("contracts", other, {"tags": [tag]})
        assert fields(r, "tags", tag)["used_by"] == Decimal(1)
        r.update("contracts", other, {"tags": []})
        assert fields(r, "tags", tag)["used_by"] == Decimal(0)


def test_related_record_change_recomputes_readers(sales):
    db, app = sales
    with db.begin() as conn:
        r = Records(conn, app, now=NOW)
        a, b, tag, contract, *_ = make_world(r)
        version = r.get("customers", b)["version"]
        r.update("customers", a, {"level": "normal"})
        assert fields(r, "customers", b)["referrer_level"] == "normal"
        # Derived values do not bump the version of the records they land in.
        assert r.get("customers", b)["version"] == version
        assert fields(r, "contracts", contract)["customer_tier"] == "silver-normal / normal"
        r.update("tags", tag, {"name": "战略"})
        assert fields(r, "contracts", contract)["tag_names"] == "战略"


def test_errors_are_stored_as_empty_with_their_code(sales):
    db, app = sales
    with db.begin() as conn:
        r = Records(conn, app, now=NOW)
        contract = r.create("contracts", {"title": "零元合同", "amount": 0})
        value = contract["fields"]["paid_share"]
        assert value == ErrorValue("#DIV/0!")
        from runtime.records.serialize import record_to_json
        assert record_to_json(app, "contracts", contract)["fields"]["paid_share"] == "#DIV/0!"
        # The value column is NULL: the "empty" filter finds it, number filters skip it.
        empty = r.list("contracts", filter={"field": "paid_share", "op": "empty"})
        assert [rec["id"] for rec in empty.records] == [contract["id"]]
        assert r.list("contracts", filter={"field": "paid_share", "op": "gte", "value": 0}).records == []
        r.update("contracts", contract["id"], {"amount": 100})
        assert fields(r, "contracts", contract["id"])["paid_share"] == Decimal("0.0000")


def test_computed_fields_filter_and_sort_in_sql(sales):
    db, app = sales
    with db.begin() as conn:
        r = Records(conn, app, now=NOW)
        customer = r.create("customers", {"name": "甲"})["id"]
        ids = [r.create("contracts", {"title": f"K{n}", "customer": customer, "amount": amount})["id"]
               for n, amount in enumerate((300, 100, 200))]
        r.create("payments", {"contract": ids[0], "customer": customer, "amount": 250})
        page = r.list("contracts", filter={"field": "unpaid", "op": "gte", "value": 100},
                      sort=[{"field": "unpaid", "dir": "asc"}])
        assert [rec["fields"]["title"] for rec in page.records] == ["K1", "K2"]
        page = r.list("contracts", filter={"field": "customer_tier", "op": "starts_with", "value": "silver"})
        assert len(page.records) == 3
        page = r.list("customers", filter={"field": "ltv", "op": "between", "value": [200, 300]})
        assert [rec["id"] for rec in page.records] == [customer]


def test_computed_fields_refuse_input(sales):
    db, app = sales
    with db.begin() as conn:
        r = Records(conn, app, now=NOW)
        with pytest.raises(RecordValidationError) as caught:
            r.create("contracts", {"title": "K", "amount": 10, "unpaid": 5, "paid": 1})
        assert {(i.field, i.code) for i in caught.value.issues} == {("unpaid", "computed_read_only"),
                                                                     ("paid", "computed_read_only")}
        contract = r.create("contracts", {"title": "K", "amount": 10})
        with pytest.raises(RecordValidationError) as caught:
            r.update("contracts", contract["id"], {"unpaid": 0})
        assert caught.value.issues[0].as_dict("en")["message"] == \
            "This field is computed by the app; it cannot be set"


def test_rules_refuse_with_their_message(sales):
    db, app = sales
    with db.begin() as conn:
        r = Records(conn, app, now=NOW)
        contract = r.create("contracts", {"title": "K", "amount": 100})["id"]
        with pytest.raises(RecordValidationError) as caught:
            r.create("payments", {"contract": contract, "amount": 0})
        issue = caught.value.issues[0]
        assert (issue.field, issue.code) == ("amount", "rule_failed")
        assert issue.as_dict("zh")["message"] == "回款金额必须大于 0"
        with pytest.raises(RecordValidationError) as caught:
            r.create("payments", {"contract": contract, "amount": 150})     # a rule through a relation
        assert [(i.field, i.as_dict("en")["message"]) for i in caught.value.issues] == \
            [("*", "A payment cannot be more than its contract")]
        # Without a contract, contract.amount is empty, which compares as 0 (as in Excel).
        with pytest.raises(RecordValidationError):
            r.create("payments", {"amount": 10})
        payment = r.create("payments", {"contract": contract, "amount": 100})
        with pytest.raises(RecordValidationError):                     # updates are judged too
            r.update("payments", payment["id"], {"amount": -5})
        with pytest.raises(RecordValidationError) as caught:
            r.create("contracts", {"title": "K", "starts_on": "2025-01-10", "ends_on": "2025-01-01"})
        assert caught.value.issues[0].field == "ends_on"


def test_rules_report_every_record_of_a_batch(sales):
    db, app = sales
    with db.begin() as conn:
        r = Records(conn, app, now=NOW)
        contract = r.create("contracts", {"title": "K", "amount": 100})["id"]
        with pytest.raises(BulkValidationError) as caught:
            r.bulk_create("payments", [{"contract": contract, "amount": 10}, {"contract": contract, "amount": -1},
                                       {"contract": contract, "amount": 500}])
        assert sorted(caught.value.by_index) == [1, 2]
        ids, failures = r.create_many("payments", [{"contract": contract, "amount": 10},
                                                   {"contract": contract, "amount": -1}], skip_invalid=True)
        assert len(ids) == 1 and list(failures) == [1]
        assert fields(r, "contracts", contract)["paid"] == Decimal("10.00")


def test_visibility_and_required(sales):
    db, app = sales
    with db.begin() as conn:
        r = Records(conn, app, now=NOW)
        # lost_reason is required, but hidden unless the contract is terminated.
        contract = r.create("contracts", {"title": "K", "amount": 1})
        with pytest.raises(RecordValidationError) as caught:
            r.create("contracts", {"title": "K", "amount": 1, "status": "terminated"})
        assert [(i.field, i.code) for i in caught.value.issues] == [("lost_reason", "required")]
        # An update that shows the field asks for it, though the update does not name it.
        with pytest.raises(RecordValidationError) as caught:
            r.update("contracts", contract["id"], {"status": "terminated"})
        assert [(i.field, i.code) for i in caught.value.issues] == [("lost_reason", "required")]
        done = r.update("contracts", contract["id"], {"status": "terminated", "lost_reason": "预算取消"})
        # Hiding it again keeps its value, and clearing a hidden field is allowed.
        done = r.update("contracts", done["id"], {"status": "executing"})
        assert done["fields"]["lost_reason"] == "预算取消"
        assert r.update("contracts", done["id"], {"lost_reason": None})["fields"]["lost_reason"] is None


def test_defaults_yield_to_given_values(sales):
    db, app = sales
    with db.begin() as conn:
        r = Records(conn, app, now=NOW)
        k = r.create("contracts", {"title": "K", "starts_on": "2024-02-29"})["fields"]
        assert (k["starts_on"], k["ends_on"]) == (date(2024, 2, 29), date(2025, 2, 28))
        k = r.create("contracts", {"title": "K", "ends_on": "2030-01-01"})["fields"]
        assert (k["starts_on"], k["ends_on"]) == (date(2025, 9, 15), date(2030, 1, 1))


# ---- statements ------------------------------------------------------------------------------

def _contracts(r, customers, n):
    return [c["id"] for c in r.bulk_create("contracts", [
        {"title": f"K{i}", "customer": customers[i % len(customers)], "amount": 1000} for i in range(n)])]


def test_upkeep_statements_do_not_grow_with_records(sales, count_statements):
    db, app = sales
    counts = {}
    for n in (5, 200):
        with db.begin() as conn:
            r = Records(conn, app, now=NOW)
            customers = [c["id"] for c in r.bulk_create("customers", [{"name": f"c{i}"} for i in range(n)])]
            contracts = _contracts(r, customers, n)
            rows = [{"contract": contracts[i], "customer": customers[i], "amount": 10, "paid_on": "2025-09-01"}
                    for i in range(n)]
            with count_statements(db) as created:
                payments = r.create_many("payments", rows, skip_invalid=False)[0]
            with count_statements(db) as updated:
                r.bulk_update("payments", [{"id": p, "changes": {"amount": 20}} for p in payments])
            with count_statements(db) as deleted:
                r.delete("payments", payments)
            counts[n] = (created.count, updated.count, deleted.count)
            assert fields(r, "customers", customers[-1])["ltv"] == Decimal("0.00")
            assert fields(r, "contracts", contracts[-1])["unpaid"] == Decimal("1000.00")
    # Creating, updating (one executemany per set of changed columns, each row
    # guarded by its version) and deleting, the upkeep included, are fixed per call.
    assert counts[5] == counts[200]


def test_bulk_children_upkeep_counts(sales, count_statements):
    """1,000 payments over 100 contracts: the upkeep's statements are the same as for 10
    payments over 10 contracts (each run on fresh customers, so the same values change)."""
    db, app = sales
    from engine.upkeep.upkeep import Upkeep
    calls: list[int] = []
    original = Upkeep._propagate

    def counting(self, events, skip_same=None):
        with count_statements(db) as counter:
            changed = original(self, events, skip_same)
        calls.append(counter.count)
        return changed      # the derived changes the record service raises as events
    with db.begin() as conn:
        r = Records(conn, app, now=NOW)
        for n in (10, 1000):
            customers = [c["id"] for c in r.bulk_create("customers", [{"name": f"c{i}"} for i in range(10)])]
            contracts = _contracts(r, customers, min(n, 100))
            rows = [{"contract": contracts[i % len(contracts)], "customer": customers[i % 10], "amount": 1,
                     "paid_on": "2025-09-01"} for i in range(n)]
            Upkeep._propagate = counting
            try:
                ids = r.create_many("payments", rows, skip_invalid=False)[0]
                r.bulk_update("payments", [{"id": p, "changes": {"amount": 2}} for p in ids])
            finally:
                Upkeep._propagate = original
        assert calls[0] == calls[2] and calls[1] == calls[3], calls
        assert fields(r, "contracts", contracts[0])["paid"] == Decimal("20.00")      # 10 payments of 2
        assert fields(r, "customers", customers[0])["ltv"] == Decimal("200.00")
        assert fields(r, "customers", customers[0])["unpaid_total"] == Decimal(10 * 1000 - 200)


def test_apps_without_computed_fields_pay_nothing(db, count_statements):
    from tests.support.records_app import install_shop
    app = install_shop(db)
    with db.begin() as conn:
        r = Records(conn, app)
        with count_statements(db) as counter:
            r.create("customers", {"name": "甲", "code": "X1"})
        assert counter.count == 4      # unique check, insert, history, read back


def test_formulas_reading_serial_numbers_and_the_clock(db):
    from engine.validation.validate import check_text
    from runtime.apps import apply_app
    app, problems = check_text("""
format_version: 1
app: {key: tickets, label: {zh: 工单, en: Tickets}}
forms:
  - key: tickets
    label: {zh: 工单, en: Tickets}
    fields:
      - {key: no, type: serial, label: {zh: 编号, en: No.}, pattern: "GD{counter:4}"}
      - {key: code, type: formula, label: {zh: 查询码, en: Code}, formula: '"Q-" & no'}
      - {key: opened, type: formula, label: {zh: 受理时间, en: Opened}, formula: 'NOW()'}
      - {key: due, type: formula, label: {zh: 期限, en: Due}, formula: 'DATE(YEAR(opened), MONTH(opened), DAY(opened)) + 3'}
""")
    assert not problems, problems
    apply_app(db, app)
    with db.begin() as conn:
        r = Records(conn, app, now=NOW)
        made = r.bulk_create("tickets", [{}, {}])
    assert [m["fields"]["code"] for m in made] == ["Q-GD0001", "Q-GD0002"]
    assert made[0]["fields"]["opened"] == NOW
    assert made[0]["fields"]["due"] == date(2025, 9, 18)

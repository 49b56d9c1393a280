"""The flagship CRM's computed fields after `formwork seed crm_referral --scale 200`, on
SQLite and PostgreSQL: every stored value equals the same figure computed here from the
raw rows (contract receipts and refunds, customer lifetime value, referrals, follow-ups,
repurchase dates, weighted pipeline), and its rules refuse what they should."""
from collections import defaultdict
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
import sqlalchemy as sa

from engine.compiled.app import compiled
from engine.errors import RecordValidationError
from engine.fields.base import DEFAULT_TZ
from engine.validation import load_definition
from runtime.apps import apply_app
from runtime.records import Records
from runtime.seed import seed_app
from runtime.seed.crm_referral import ANCHOR
from tests.support.paths import FLAGSHIP_APP as APP_FILE

STAGE_PROBABILITY = {"initial": 10, "needs": 30, "proposal": 60, "negotiation": 80, "won": 100, "lost": 0}
CENT = Decimal("0.01")


@pytest.fixture
def seeded(db):
    app = load_definition(APP_FILE)
    apply_app(db, app)
    seed_app(db, "crm_referral", 200, seed=7)
    return db, app


def rows(conn, app, form_key: str) -> dict[int, dict]:
    """{id: {field: value}} of every record of a form, read through the field types."""
    form = app.require_form(form_key)
    table = compiled(app).tables.form_table(form_key)
    types = {f.key: compiled(app).types.of(f) for f in form.fields if compiled(app).types.of(f).storage == "column"}
    return {m["id"]: {"deleted_at": m["deleted_at"], **{k: t.from_row(m) for k, t in types.items()}}
            for m in conn.execute(sa.select(table)).mappings()}


def subform_rows(conn, app, form_key: str, key: str) -> dict[int, list[dict]]:
    child = compiled(app).tables.child_table(form_key, key)
    found = defaultdict(list)
    for m in conn.execute(sa.select(child)).mappings():
        found[m["parent_id"]].append(dict(m))
    return found


def test_seeded_computed_values_are_consistent(seeded):
    db, app = seeded
    with db.connect() as conn:
        customers, contracts = rows(conn, app, "customers"), rows(conn, app, "contracts")
        payments, orders = rows(conn, app, "payments"), rows(conn, app, "orders")
        referrals, followups = rows(conn, app, "referrals"), rows(conn, app, "followups")
        opportunities = rows(conn, app, "opportunities")
        items = subform_rows(conn, app, "contracts", "items")
    assert contracts and payments and orders and followups

    received, refunded = defaultdict(Decimal), defaultdict(Decimal)
    for p in payments.values():
        (refunded if p["is_refund"] else received)[p["contract"]] += p["amount"]
    for cid, c in contracts.items():
        assert c["paid_amount"] == received[cid]
        assert c["refunded_amount"] == refunded[cid]
        assert c["net_paid"] == received[cid] - refunded[cid]
        open_amount = Decimal(0) if c["status"] in ("refunded", "terminated") else max(c["amount"] - (received[cid] - refunded[cid]), 0)
        assert c["unpaid_amount"] == open_amount
        assert c["items_total"] == sum(Decimal(i["quantity"]) * i["unit_price"] for i in items[cid])

    by_customer = defaultdict(list)
    for o in orders.values():
        by_customer[o["customer"]].append(o)
    revenue = defaultdict(Decimal)
    for c in contracts.values():
        revenue[c["customer"]] += c["net_paid"]
    converted = defaultdict(int)
    for r in referrals.values():
        converted[r["referrer"]] += r["status"] == "converted"
    last_followup: dict[int, datetime] = {}
    for f in followups.values():
        last_followup[f["customer"]] = max(last_followup.get(f["customer"], f["followed_at"]), f["followed_at"])
    first_deal: dict[int, date] = {}
    for c in contracts.values():
        first_deal[c["customer"]] = min(first_deal.get(c["customer"], c["signed_on"]), c["signed_on"])
    codes = set()
    for cid, c in customers.items():
        mine = sorted(o["ordered_on"] for o in by_customer[cid])
        order_revenue = sum((o["amount"] for o in by_customer[cid]), Decimal(0))
        assert c["order_revenue"] == order_revenue
        assert c["contract_revenue"] == revenue[cid]
        assert c["lifetime_value"] == revenue[cid] + order_revenue
        assert c["successful_referrals"] == converted[cid]
        assert c["order_count"] == len(mine)
        assert (c["first_order_on"], c["last_order_on"]) == ((mine[0], mine[-1]) if mine else (None, None))
        if len(mine) >= 2:
            gap = (Decimal((mine[-1] - mine[0]).days) / (len(mine) - 1)).quantize(Decimal(1), ROUND_HALF_UP)
            assert (c["next_repurchase_on"] - mine[-1]).days == int(gap)
        else:
            assert c["next_repurchase_on"] is None
        seen = last_followup.get(cid)
        assert c["last_followup_at"] == seen
        # Computed as of the seed's "today" (the seed writes with now = ANCHOR).
        assert c["days_since_followup"] == (None if seen is None else (ANCHOR - seen.astimezone(DEFAULT_TZ).date()).days)
        assert c["first_deal_date"] == first_deal.get(cid)
        assert c["referral_code"] and c["referral_code"] not in codes
        codes.add(c["referral_code"])

    for o in opportunities.values():
        probability = o["probability"] if o["probability"] is not None else STAGE_PROBABILITY[o["stage"]]
        assert o["weighted_amount"] == (o["amount"] * probability / 100).quantize(CENT, ROUND_HALF_UP)


def test_flagship_rules(seeded):
    db, app = seeded
    with db.begin() as conn:
        r = Records(conn, app)
        contract = r.list("contracts", page_size=1, sort=[{"field": "amount", "dir": "asc"}],
                          filter={"field": "net_paid", "op": "gt", "value": 0}).records[0]
        cid, fields = contract["id"], contract["fields"]
        customer = fields["customer"]
        cases = {
            "within_contract": {"contract": cid, "customer": customer, "amount": fields["amount"] + 1,
                                "paid_on": fields["signed_on"]},
            "after_signing": {"contract": cid, "customer": customer, "amount": 1,
                              "paid_on": date.fromordinal(fields["signed_on"].toordinal() - 1)},
            "same_customer": {"contract": cid, "customer": r.create("customers", {"name": "别的客户"})["id"],
                              "amount": 1, "paid_on": fields["signed_on"]},
        }
        for rule, values in cases.items():
            with pytest.raises(RecordValidationError) as refused:
                r.create("payments", values)
            assert [i.params["rule"] for i in refused.value.issues] == [rule]
        # Payments may not add up to more than the contract: judged again on the contract
        paid = {"contract": cid, "customer": customer, "paid_on": fields["signed_on"]}
        remaining = fields["amount"] - fields["net_paid"]
        with pytest.raises(RecordValidationError) as refused:
            r.create("payments", {**paid, "amount": remaining + 1})
        assert [(i.code, i.params["rule"]) for i in refused.value.issues] == [("related_rule_failed", "not_overpaid")]
        r.update("contracts", cid, {"amount": fields["amount"] + 1})
        r.create("payments", {**paid, "amount": remaining + 1})
        after = r.get("contracts", cid)["fields"]
        assert after["net_paid"] == fields["net_paid"] + remaining + 1 == after["amount"]
        referral = r.list("referrals", page_size=1).records[0]["fields"]
        referrer_phone = r.get("customers", referral["referrer"])["fields"]["phone"]
        # the code must be the referrer's for the campaign; case does not matter
        friend = {"referrer": referral["referrer"], "campaign": referral["campaign"], "friend_name": "新朋友",
                  "friend_phone": "13900001111", "consent": True}
        with pytest.raises(RecordValidationError) as refused:
            r.create("referrals", {**friend, "referral_code": "SPR25-TJ999999"})
        assert [i.params["rule"] for i in refused.value.issues] == ["code_matches_referrer"]
        accepted = r.create("referrals", {**friend, "referral_code": referral["share_code"].lower()})
        assert accepted["fields"]["share_code"] == referral["share_code"]
        with pytest.raises(RecordValidationError) as refused:
            r.create("referrals", {"referrer": referral["referrer"], "friend_name": "自己",
                                   "friend_phone": referrer_phone, "consent": True})
        assert [i.params["rule"] for i in refused.value.issues] == ["not_self_referral"]
        # A lost opportunity: its reason is shown, its probability must be 0.
        opportunity = r.list("opportunities", page_size=1).records[0]
        with pytest.raises(RecordValidationError) as refused:
            r.update("opportunities", opportunity["id"], {"stage": "lost", "probability": 40})
        assert [i.params["rule"] for i in refused.value.issues] == ["lost_has_no_chance"]
        lost = r.update("opportunities", opportunity["id"], {"stage": "lost", "probability": 0,
                                                              "lost_reason": "预算取消"})["fields"]
        assert lost["weighted_amount"] == Decimal("0.00")

"""The flagship's programme (apps/crm_referral.yaml): a payment that completes a contract
settles the referrer's share and the friend's coupon through the record events (a
derived change of the contract's net_paid); a refund claws back. The sample data
exercises every rule, and every explanation recomputes."""
from __future__ import annotations

import collections
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from engine.rewards import recompute
from engine.validation import load_definition
from runtime.apps import apply_app
from runtime.seed import seed_app
from runtime.session import Session
from tests.runtime.rewards.support import ledger

FLAGSHIP = Path(__file__).resolve().parents[3] / "apps" / "crm_referral.yaml"


@pytest.fixture
def crm(db):
    apply_app(db, load_definition(FLAGSHIP))
    return db


def customer(uow, name, phone, referrer=None):
    return uow.records("crm_referral").create("customers", {"name": name, "kind": "person", "phone": phone,
                                                            "referrer": referrer})["id"]


def test_the_last_payment_settles_the_share_and_the_coupon_and_a_refund_cancels_them(crm):
    today = date.today()

    def setup(uow):
        referrer = customer(uow, "老王", "13800000001")
        friend = customer(uow, "小李", "13800000002", referrer)
        contract = uow.records("crm_referral").create("contracts", {
            "title": "首单", "customer": friend, "amount": Decimal(40000), "signed_on": today - timedelta(days=3),
            "items": [{"product": "专业版", "quantity": 2, "unit_price": Decimal(20000)}]})["id"]
        return referrer, friend, contract
    referrer, friend, contract = Session(crm).write(setup)
    pay = lambda amount, refund=False: Session(crm).write(lambda uow: uow.records("crm_referral").create(  # noqa: E731
        "payments", {"contract": contract, "amount": Decimal(amount), "paid_on": today, "is_refund": refund}))
    pay(10000)
    assert ledger(crm) == []                        # not paid in full yet
    pay(30000)
    share, coupon = ledger(crm)
    assert (share["rule_key"], share["beneficiary_id"], share["amount"], share["status"]) == \
        ("referrer_share", referrer, Decimal(2000), "pending")
    assert (coupon["rule_key"], coupon["beneficiary_id"], coupon["amount"], coupon["coupon"]) == \
        ("friend_coupon", friend, Decimal(200), "WELCOME")
    assert share["vests_on"] == (today + timedelta(days=30)).isoformat()
    assert share["explanation"]["tier"] == {"from": 1, "rate": "0.05"}
    pay(5000, refund=True)                          # within the hold: both cancelled
    assert [e["status"] for e in ledger(crm)] == ["cancelled", "cancelled"]


def test_the_sample_data_exercises_every_rule(crm):
    seed_app(crm, "crm_referral", 40)
    rows = ledger(crm)
    for entry in rows:
        if entry["kind"] == "reward":
            assert recompute(entry["explanation"]) == entry["amount"]
    states = collections.Counter((e["rule_key"], e["kind"], e["status"]) for e in rows)
    for rule in ("referrer_share", "friend_coupon"):
        for kind, status in [("reward", "paid"), ("reward", "pending"), ("reward", "cancelled"),
                             ("reward", "clawed_back"), ("clawback", "vested")]:
            assert states[(rule, kind, status)] >= 1, (rule, kind, status, states)
    star = collections.Counter(e["beneficiary_id"] for e in rows if e["rule_key"] == "referrer_share")
    top = [e for e in rows if e["rule_key"] == "referrer_share" and e["beneficiary_id"] == star.most_common(1)[0][0]
           and e["kind"] == "reward"]
    explained = {e["explanation"]["nth"]: e["explanation"] for e in top}
    assert {3, 5, 10} <= set(explained)
    assert all(explained[n]["milestone"]["at"] == n for n in (3, 5, 10))
    assert explained[5]["tier"]["rate"] == "0.08" and explained[4]["tier"]["rate"] == "0.05"
    cuts = collections.Counter(c["cap"] for e in top for c in e["explanation"]["caps"] if Decimal(c["cut"]) > 0)
    assert cuts["per_referral"] >= 1 and cuts["per_month"] >= 1
    assert any(e["status"] == "zero" for e in top)
    clawbacks = [e for e in rows if e["kind"] == "clawback"]
    originals = {e["id"]: e for e in rows}
    assert all(originals[c["original_id"]]["amount"] == -c["amount"] for c in clawbacks)

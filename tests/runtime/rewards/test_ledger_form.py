"""The flagship's ledger form (奖励台账) mirrors fw_reward_entries (runtime/rewards/mirror.py):
a settled reward writes its row in the same transaction, vesting and refunds move the row's
status, and finance's approved / paid on the row (as the payout workflow's set_fields
writes it) flow back to the entry; a held reward cannot be paid."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from engine.validation import load_definition
from runtime.apps import apply_app
from runtime.rewards.mirror import LedgerWriteRefused
from runtime.rewards.settle import vest_due
from runtime.session import Session
from tests.runtime.rewards.support import ledger

FLAGSHIP = Path(__file__).resolve().parents[3] / "apps" / "crm_referral.yaml"
APP = "crm_referral"


@pytest.fixture
def crm(db):
    apply_app(db, load_definition(FLAGSHIP))
    return db


def rows(db) -> list[dict]:
    return Session(db).read(lambda uow: [r["fields"] | {"id": r["id"]} for r in uow.records(APP).list(
        "reward_ledger", page_size=100).records])


def contract_paid(db, today: date, amount=40000) -> tuple[int, int]:
    def setup(uow):
        records = uow.records(APP)
        referrer = records.create("customers", {"name": "老王", "kind": "person", "phone": "13800000001"})["id"]
        friend = records.create("customers", {"name": "小李", "kind": "person", "phone": "13800000002",
                                              "referrer": referrer})["id"]
        contract = records.create("contracts", {
            "title": "首单", "customer": friend, "amount": Decimal(amount), "signed_on": today,
            "items": [{"product": "专业版", "quantity": 1, "unit_price": Decimal(amount)}]})["id"]
        records.create("payments", {"contract": contract, "amount": Decimal(amount), "paid_on": today})
        return referrer, contract
    return Session(db).write(setup)


def test_settled_rewards_are_mirrored_and_vesting_and_payout_flow_both_ways(crm):
    today = date.today()
    referrer, contract = contract_paid(crm, today)
    share, coupon = ledger(crm)
    mirrored = {r["entry_id"]: r for r in rows(crm)}
    assert set(mirrored) == {share["id"], coupon["id"]}
    row = mirrored[share["id"]]
    assert (row["beneficiary"], row["amount"], row["status"], row["kind"], row["rule"], row["contract"]) == \
        (referrer, Decimal(2000), "pending", "referrer", "referrer_share", contract)
    assert row["vests_on"] == today + timedelta(days=30) and "奖励金额 2000.00" in row["explanation"]
    # a held reward cannot be paid from the form: the write is refused, saying why
    with pytest.raises(LedgerWriteRefused, match="wait until it vests"):
        Session(crm).write(lambda uow: uow.records(APP).update("reward_ledger", row["id"],
                                                               {"status": "paid", "paid_on": today}))
    with crm.begin() as conn:
        assert vest_due(conn, today + timedelta(days=30)) == 2
    assert {r["status"] for r in rows(crm)} == {"vested"}
    # finance pays the share on the form (what the payout workflow's set_fields writes)
    Session(crm).write(lambda uow: uow.records(APP).update("reward_ledger", row["id"],
                                                           {"status": "paid", "paid_on": today}))
    entry = next(e for e in ledger(crm) if e["id"] == share["id"])
    assert (entry["status"], entry["paid_on"]) == ("paid", today.isoformat())
    # a status the settlement keeps cannot be typed in
    with pytest.raises(LedgerWriteRefused, match="set by the settlement"):
        Session(crm).write(lambda uow: uow.records(APP).update("reward_ledger", mirrored[coupon["id"]]["id"],
                                                               {"status": "pending"}))
    # a refund: the paid share is clawed back, the vested coupon too; the rows follow
    Session(crm).write(lambda uow: uow.records(APP).create("payments", {
        "contract": contract, "amount": Decimal(1000), "paid_on": today, "is_refund": True}))
    assert {r["entry_id"]: r["status"] for r in rows(crm)} == \
        {share["id"]: "clawed_back", coupon["id"]: "clawed_back"}


def test_a_row_typed_in_by_hand_keeps_working_without_an_entry(crm):
    referrer, _ = contract_paid(crm, date.today())
    hand = Session(crm).write(lambda uow: uow.records(APP).create("reward_ledger", {
        "beneficiary": referrer, "kind": "referrer", "amount": Decimal(100)}))
    Session(crm).write(lambda uow: uow.records(APP).update("reward_ledger", hand["id"],
                                                           {"status": "paid", "paid_on": date.today()}))
    assert len(ledger(crm)) == 2            # the ledger itself is unchanged

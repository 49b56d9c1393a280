"""The flagship's flows (apps/crm_referral.yaml): contract approval by amount, the
reward payout marking the entry paid, the ticket deadline escalating."""
from __future__ import annotations

from datetime import timedelta

import pytest

from engine.validation import load_definition
from runtime.apps import apply_app, load_installed
from runtime.org import Org
from runtime.records import Records
from runtime.workflow import fire_due
from tests.support.paths import FLAGSHIP_APP
from tests.support.workflow_app import NOW, as_user, pending


@pytest.fixture
def crm(db):
    apply_app(db, load_definition(FLAGSHIP_APP))
    with db.begin() as conn:
        org = Org(conn)
        ids = {a: org.users.add(a, a.title(), is_admin=(a == "root")).id
               for a in ("ann", "bob", "carl", "fay", "fred", "sam", "root")}
        hq = org.departments.create("总部", head="carl")
        sales = org.departments.create("销售部", parent=hq.id, head="bob")
        org.departments.add_members(sales.id, [ids["ann"]], primary=True)
        for role, people in (("finance", ["fay", "fred"]), ("director", ["carl"]), ("service_manager", ["sam"])):
            org.roles.create(role, role)
            org.roles.assign(role, people)
        records = Records(conn, load_installed(conn, "crm_referral"))
        customer = records.create("customers", {"name": "华东贸易", "phone": "13800138000"})
    return ids, customer["id"]


def contract(conn, customer_id, amount):
    records = Records(conn, load_installed(conn, "crm_referral"))
    return records.create("contracts", {"title": "年度服务", "customer": customer_id, "amount": amount,
                                        "signed_on": "2026-11-30",
                                        "items": [{"product": "服务", "quantity": 1, "unit_price": amount}]})


def approve_all(conn, accounts, **options):
    for account in accounts:
        [task] = pending(conn, account)
        last = as_user(conn, account).act(task["id"], "approve", **options)
    return last


def test_a_large_contract_goes_head_then_finance_together_then_the_director(db, crm):
    ids, customer_id = crm
    with db.begin() as conn:
        record = contract(conn, customer_id, 200000)
        instance = as_user(conn, "ann").start("crm_referral", "contracts", record["id"])
        assert instance["current_nodes"] == ["head"]
        approve_all(conn, ["bob"])
        assert approve_all(conn, ["fay"])["current_nodes"] == ["finance"]     # 会签: fred too
        assert approve_all(conn, ["fred"])["current_nodes"] == ["director"]
        assert approve_all(conn, ["carl"], signature=7)["status"] == "approved"


def test_a_small_contract_needs_one_finance_member(db, crm):
    ids, customer_id = crm
    with db.begin() as conn:
        record = contract(conn, customer_id, 5000)
        as_user(conn, "ann").start("crm_referral", "contracts", record["id"])
        assert approve_all(conn, ["fred"])["status"] == "approved"
        assert pending(conn, "fay") == []


def test_a_reward_payout_marks_the_entry_paid(db, crm):
    ids, customer_id = crm
    with db.begin() as conn:
        records = Records(conn, load_installed(conn, "crm_referral"))
        entry = records.create("reward_ledger", {"beneficiary": customer_id, "kind": "referrer", "amount": 200})
        as_user(conn, "ann").start("crm_referral", "reward_ledger", entry["id"])
        assert approve_all(conn, ["fay"])["status"] == "approved"
        paid = records.get("reward_ledger", entry["id"])["fields"]
        assert paid["status"] == "paid" and paid["paid_on"] is not None


def test_a_ticket_not_handled_in_time_goes_to_the_service_manager(db, crm):
    ids, customer_id = crm
    with db.begin() as conn:
        records = Records(conn, load_installed(conn, "crm_referral"))
        ticket = records.create("tickets", {"customer": customer_id, "category": "fault", "priority": "high",
                                            "description": "设备无法启动", "handler": ids["bob"]})
        as_user(conn, "ann").start("crm_referral", "tickets", ticket["id"])
        assert [t["node_key"] for t in pending(conn, "bob")] == ["handle"]
    with db.begin() as conn:
        assert fire_due(conn, NOW + timedelta(hours=3)) == []
        assert [f["action"] for f in fire_due(conn, NOW + timedelta(hours=4))] == ["escalate"]
        approve_all(conn, ["sam"])
        fields = Records(conn, load_installed(conn, "crm_referral")).get("tickets", ticket["id"])["fields"]
        assert fields["status"] == "resolved" and fields["resolved_at"] is not None

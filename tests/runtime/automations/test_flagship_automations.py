"""The flagship's automations (apps/crm_referral.yaml) on SQLite and PostgreSQL: referred
leads assigned in turn within the sales department, follow-up and repurchase reminders
from the scheduler, the signed-contract webhook (signed; skipped while its URL is unset)."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa

from engine.storage import system
from engine.storage.db import read_connection
from engine.validation import load_definition
from runtime.apps import apply_app
from runtime.automations.triggers import due_dates
from runtime.session import Session
from runtime.webhooks import SIGNATURE_HEADER, verify_signature
from tests.support.automations import runs
from tests.support.http_receiver import Receiver
from tests.support.paths import FLAGSHIP_APP


@pytest.fixture
def crm(db):
    apply_app(db, load_definition(FLAGSHIP_APP))
    with Session(db).write() as uow:
        sales = uow.org.departments.create("销售部")
        east = uow.org.departments.create("华东大区", sales.id)
        people = [uow.org.users.add(a, a) for a in ("a.sales", "b.sales", "c.sales", "clerk")]
        uow.org.departments.add_members(sales.id, [people[0].id])
        uow.org.departments.add_members(east.id, [people[1].id, people[2].id])
        uow.org.roles.create("sales", "销售")       # the clerk enters leads under the flagship's sets
        uow.org.roles.assign("sales", [people[3].id])
    return db, people


def _titles(db, user_id):
    with read_connection(db) as conn:
        return conn.execute(sa.select(system.notifications.c.title).where(
            system.notifications.c.user_id == user_id).order_by(system.notifications.c.id)).scalars().all()


def test_referred_leads_go_round_the_sales_department(crm):
    db, (a, b, c, clerk) = crm
    clerk_session = Session.for_user(db, "clerk")
    owners = []
    for i in range(4):
        lead = clerk_session.write(lambda uow, i=i: uow.records("crm_referral").create(
            "leads", {"name": f"朋友{i}", "source": "referral", "phone": "13800138000"}))
        owners.append(Session(db).read(lambda uow, lid=lead["id"]: uow.records("crm_referral").get("leads", lid))
                      ["fields"]["owner"])
    website = clerk_session.write(lambda uow: uow.records("crm_referral").create(
        "leads", {"name": "官网", "source": "website"}))
    assert owners == [a.id, b.id, c.id, a.id] and website["fields"]["owner"] == clerk.id
    assert _titles(db, a.id) == ["新的转介绍线索：朋友0", "新的转介绍线索：朋友3"]
    assert [(r["automation_key"], r["status"]) for r in runs(db)] == \
        [("assign_referred_lead", "done")] * 4 + [("assign_referred_lead", "skipped")]   # the website lead


def test_followup_and_repurchase_reminders_come_from_the_scheduler(crm):
    db, (a, b, _c, _clerk) = crm
    with Session(db).write() as uow:
        records = uow.records("crm_referral")
        customer = records.create("customers", {"name": "老客户", "owner": a.id})
        records.create("orders", {"order_no": "D1", "customer": customer["id"], "ordered_on": date(2026, 1, 1),
                                  "amount": "100"})
        records.create("followups", {"customer": customer["id"], "followed_at": datetime(2026, 3, 1, 10,
                                                                                         tzinfo=timezone.utc),
                                     "content": "谈续约", "next_followup": date(2026, 3, 11), "by": b.id})
    Session(db).write(lambda uow: due_dates(uow, datetime(2026, 3, 10, 1, tzinfo=timezone.utc)))
    assert _titles(db, b.id) == ["明天需要跟进客户"]
    Session(db).write(lambda uow: due_dates(uow, datetime(2026, 4, 1, 1, tzinfo=timezone.utc)))   # 01-01 + 90
    assert _titles(db, a.id) == ["复购提醒：老客户"]
    Session(db).write(lambda uow: due_dates(uow, datetime(2026, 4, 2, 1, tzinfo=timezone.utc)))
    assert _titles(db, a.id) == ["复购提醒：老客户"] and _titles(db, b.id) == ["明天需要跟进客户"]


def _contract(db):
    def work(uow):
        records = uow.records("crm_referral")
        customer = records.create("customers", {"name": "签约客户"})
        return records.create("contracts", {"title": "年度服务", "customer": customer["id"], "amount": "1000",
                                            "signed_on": "2026-01-05",
                                            "items": [{"product": "服务", "quantity": 1, "unit_price": "1000"}]})
    return Session(db).write(work)


def test_a_signed_contract_is_posted_signed_and_skipped_without_a_url(crm, monkeypatch):
    db, _people = crm
    monkeypatch.delenv("CRM_CONTRACT_WEBHOOK_URL", raising=False)
    _contract(db)
    assert runs(db, automation_key="contract_signed_webhook")[0]["actions"][0]["result"] == {
        "skipped": "CRM_CONTRACT_WEBHOOK_URL is not set"}
    monkeypatch.setenv("CRM_CONTRACT_WEBHOOK_SECRET", "finance-key")
    with Receiver() as receiver:
        monkeypatch.setenv("CRM_CONTRACT_WEBHOOK_URL", receiver.url)
        contract = _contract(db)
    [got] = receiver.received
    assert verify_signature("finance-key", got["raw"], got["headers"][SIGNATURE_HEADER])
    assert got["json"]["event"] == "contract.signed"
    assert got["json"]["record"]["fields"]["contract_no"] == contract["fields"]["contract_no"]

"""The flagship with a referral programme in use, for the portal tests: a referrer 老王
with friends referred in the running campaign (one converted, whose paid contract
settles the referrer's share), another referrer 老赵 with a friend of his own, and a
campaign that ended (it hands out no code)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from engine.validation import load_definition
from runtime.apps import apply_app
from runtime.session import Session
from tests.support.paths import FLAGSHIP_APP

APP = "crm_referral"
SECRET = "test-secret"


@dataclass
class Programme:
    referrer: int
    other: int
    friend: int
    campaign: int
    code: str            # the referrer's own customer code
    referrals: list[int]


def install(engine) -> None:
    apply_app(engine, load_definition(FLAGSHIP_APP))


def customer(records, name, phone, referrer=None) -> int:
    return records.create("customers", {"name": name, "kind": "person", "phone": phone,
                                        "referrer": referrer})["id"]


def referral(records, referrer, campaign, name, phone, status="submitted") -> int:
    return records.create("referrals", {"referrer": referrer, "campaign": campaign, "friend_name": name,
                                        "friend_phone": phone, "consent": True, "status": status})["id"]


def populate(engine, *, today: date | None = None) -> Programme:
    today = today or date.today()

    def make(uow):
        records = uow.records(APP)
        campaign = records.create("referral_campaigns", {
            "name": "春季推荐", "code_prefix": "SPR", "status": "running", "starts_on": today - timedelta(days=30)})["id"]
        records.create("referral_campaigns", {"name": "去年活动", "code_prefix": "OLD", "status": "running",
                                              "starts_on": date(2020, 1, 1), "ends_on": date(2020, 12, 31)})
        referrer = customer(records, "老王", "13800000001")
        other = customer(records, "老赵", "13900000009")
        friend = customer(records, "张三", "13812348000", referrer)
        ids = [referral(records, referrer, campaign, "张三", "13812348000", "converted"),
               referral(records, referrer, campaign, "李四娘", "13700001234", "contacted")]
        referral(records, other, campaign, "王五", "13600005678")
        contract = records.create("contracts", {
            "title": "首单", "customer": friend, "amount": Decimal(40000), "signed_on": today - timedelta(days=3),
            "items": [{"product": "专业版", "quantity": 2, "unit_price": Decimal(20000)}]})["id"]
        code = records.get("customers", referrer)["fields"]["referral_code"]
        return Programme(referrer, other, friend, campaign, code, ids), contract

    programme, contract = Session(engine).write(make)
    Session(engine).write(lambda uow: uow.records(APP).create(
        "payments", {"contract": contract, "amount": Decimal(40000), "paid_on": today}))
    return programme

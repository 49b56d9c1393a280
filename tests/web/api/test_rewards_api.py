"""GET /api/v1/apps/{app}/rewards/entries and .../entries/{id}: the flagship's ledger for
finance (filters, keyset pages, the explanation in the caller's language, matching the
OpenAPI document), refused to a member without the finance role (403, zh and en), a bad
parameter 400 naming it, an unknown entry 404."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from runtime.session import Session
from tests.support.web_api import assert_answer_matches

URL = "/api/v1/apps/crm_referral/rewards/entries"


def _settled(world) -> None:
    today = date.today()

    def setup(uow):
        records = uow.records("crm_referral")
        referrer = records.create("customers", {"name": "老王", "kind": "person", "phone": "13800000001"})["id"]
        for i in range(3):
            friend = records.create("customers", {"name": f"友{i}", "kind": "person", "phone": f"1390000000{i}",
                                                  "referrer": referrer})["id"]
            contract = records.create("contracts", {
                "title": f"首单{i}", "customer": friend, "amount": Decimal(40000), "signed_on": today,
                "items": [{"product": "专业版", "quantity": 2, "unit_price": Decimal(20000)}]})["id"]
            records.create("payments", {"contract": contract, "amount": Decimal(40000), "paid_on": today})
        uow.org.roles.assign("finance", [world.users["li"]])
    with Session(world.engine).write() as uow:
        if not any(role.key == "finance" for role, _ in uow.org.roles.list()):
            uow.org.roles.create("finance", "财务")
    Session(world.engine).write(setup)


def test_finance_pages_filters_and_reads_an_entry_explained(world):
    _settled(world)
    document = world.document("li")
    assert URL in document["paths"] and URL + "/{id}" in document["paths"]
    first = world.client.get(URL + "?limit=4", headers=world.headers("li"))
    assert first.status_code == 200, first.json
    assert_answer_matches(document, "RewardEntryPage", first)
    rest = world.client.get(URL + f"?limit=4&cursor={first.json['next_cursor']}", headers=world.headers("li"))
    entries = first.json["entries"] + rest.json["entries"]
    assert len(entries) == 6 and rest.json["next_cursor"] is None      # a share and a coupon per friend
    shares = world.client.get(URL + "?rule=referrer_share&status=pending", headers=world.headers("li")).json
    assert len(shares["entries"]) == 3 and sorted(e["amount"] for e in shares["entries"]) == ["2000.00", "2000.00", "2200.00"]
    beneficiary = shares["entries"][0]["beneficiary"]                 # the 3rd has the milestone's 200
    mine = world.client.get(URL + f"?beneficiary={beneficiary}", headers=world.headers("li")).json["entries"]
    assert {e["beneficiary"] for e in mine} == {beneficiary}
    one = world.client.get(URL + f"/{shares['entries'][-1]['id']}?lang=en", headers=world.headers("li"))
    assert one.status_code == 200 and one.json["recomputes"] is True
    assert_answer_matches(document, "RewardEntryExplained", one)
    assert "amount 2000.00" in one.json["text"] and "held 30 days" in one.json["text"]
    zh = world.client.get(URL + f"/{shares['entries'][-1]['id']}?lang=zh", headers=world.headers("li")).json
    assert "冷静期 30 天" in zh["text"]
    assert (date.today() + timedelta(days=30)).isoformat() == one.json["vests_on"]


def test_refusals_say_what_and_how(world):
    _settled(world)
    refused = world.client.get(URL + "?lang=en", headers=world.headers("han"))
    assert refused.status_code == 403
    assert refused.json["error"]["code"] == "permission_denied"
    assert "finance" in refused.json["error"]["message_en"] and "财务" in refused.json["error"]["message_zh"]
    bad = world.client.get(URL + "?status=payed&lang=en", headers=world.headers("li"))
    assert bad.status_code == 400 and "pending" in bad.json["error"]["message"]
    cursor = world.client.get(URL + "?cursor=zzz", headers=world.headers("li"))
    assert cursor.status_code == 400 and "next_cursor" in cursor.json["error"]["message_en"]
    missing = world.client.get(URL + "/987654", headers=world.headers("li"))
    assert missing.status_code == 404 and "987654" in missing.json["error"]["message_en"]
    anonymous = world.client.get(URL)
    assert anonymous.status_code == 401

"""Share codes: a referrer's code per campaign, resolved back to whose and which
campaign's it is in one statement, case-insensitive; only open campaigns hand out codes."""
from __future__ import annotations

from datetime import date

import pytest

from engine.validation import load_definition
from runtime.apps import apply_app
from runtime.referrals import codes_of, poster_path, programme_for, resolve, share_code, share_path
from runtime.session import Session
from tests.support.paths import FLAGSHIP_APP

TODAY = date(2026, 6, 15)


@pytest.fixture
def crm(db):
    apply_app(db, load_definition(FLAGSHIP_APP))
    return db


def setup(crm):
    def make(uow):
        records = uow.records("crm_referral")
        referrer = records.create("customers", {"name": "老王", "kind": "person", "phone": "13800000001"})
        campaign = lambda prefix, status, starts, ends=None: records.create("referral_campaigns", {  # noqa: E731
            "name": f"活动{prefix}", "code_prefix": prefix, "status": status, "starts_on": starts, "ends_on": ends})
        ids = [campaign("SPR25", "running", date(2026, 3, 1)), campaign("OLD24", "running", date(2024, 1, 1),
                                                                         date(2024, 12, 31)),
               campaign("DRAFT", "draft", date(2026, 1, 1)), campaign("NEXT", "running", date(2026, 9, 1))]
        return referrer, [c["id"] for c in ids], records.get("customers", referrer["id"])["fields"]["referral_code"]
    return Session(crm).write(make)


def test_a_referrer_gets_a_code_for_each_open_campaign_and_each_resolves_back(crm, count_statements):
    (referrer, campaigns, own) = setup(crm)
    with Session(crm).read() as uow:
        app = uow.app("crm_referral")
        with count_statements(crm) as counted:
            [code] = codes_of(uow.conn, app, referrer["id"], on=TODAY)
        assert counted.count == 1
        assert (code.code, code.campaign_id, code.referrer_id) == (f"SPR25-{own}", campaigns[0], referrer["id"])
        with count_statements(crm) as counted:
            found = resolve(uow.conn, app, f" spr25-{own.lower()} ")
        assert counted.count == 1 and found == code
        closed = resolve(uow.conn, app, f"OLD24-{own}")     # a code of an ended campaign still names its owner
        assert (closed.campaign_id, closed.referrer_id) == (campaigns[1], referrer["id"])


@pytest.mark.parametrize("code", ["", "SPR25", "SPR25-", "-TJ000001", "NOPE-TJ000001", "SPR25-TJ999999",
                                  "SPR25-" + "9" * 80, "'; DROP TABLE x; --", "推荐-码"])
def test_a_code_that_names_nobody_resolves_to_none(crm, code):
    setup(crm)
    with Session(crm).read() as uow:
        assert resolve(uow.conn, uow.app("crm_referral"), code) is None


def test_codes_and_paths_are_spelt_one_way():
    assert share_code("spr25", "tj000123") == "SPR25-TJ000123"
    assert share_path("SPR25-TJ000123") == "/r/SPR25-TJ000123"
    assert poster_path("A B/C") == "/r/A%20B%2FC/poster.png"



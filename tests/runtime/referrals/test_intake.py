"""The friend's side of a share link: touches, attribution (first or last touch within
the window), the referral the landing form creates (validated by the record service,
consent required, idempotent per campaign and phone), on SQLite and PostgreSQL."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from engine.errors import RecordValidationError
from engine.storage import system
from engine.validation import load_definition
from runtime.apps import apply_app
from runtime.referrals.attribution import attributed_touch, new_visitor_id, record_touch, valid_visitor_id
from runtime.referrals.codes import resolve
from runtime.referrals.intake import (CampaignClosed, FriendForm, find_share, landing, mask_name,
                                      referral_apps, submit, visit)
from runtime.session import Session
from tests.support.paths import FLAGSHIP_APP
from tests.support.referrals_app import install, make_programme as support_programme

APP = "crm_referral"
TODAY = date(2026, 6, 15)
NOW = datetime(2026, 6, 15, 4, 0, tzinfo=timezone.utc)


@pytest.fixture
def crm(db):
    install(db)
    return db


def make_programme(crm, *, ended=False):
    made = support_programme(crm, ended=ended)
    return made.referrers, made.campaign, made.codes


def touch(crm, code, visitor, *, at, channel="link"):
    def work(uow):
        app = uow.app(APP)
        record_touch(uow.conn, app, resolve(uow.conn, app, code), visitor=visitor, channel=channel,
                     ip="10.0.0.9", user_agent="Mozilla/5.0 " + "x" * 400, at=at)
    Session(crm).write(work)


def send(crm, code, form, *, visitor, at=NOW):
    def work(uow):
        _, share = find_share(uow, code)
        return submit(uow, APP, share, form, visitor=visitor, ip="10.0.0.9", at=at, on=TODAY)
    return Session(crm).write(work)


def referral(crm, record_id):
    with Session(crm).read() as uow:
        return uow.records(APP).get("referrals", record_id)["fields"]


FRIEND = FriendForm(name="王五", phone="139 0000 0003", email="wangwu@example.com", consent=True)


def test_the_landing_page_shows_the_campaign_and_a_masked_referrer(crm):
    (zhang, _), campaign, (code, _) = make_programme(crm)
    with Session(crm).read() as uow:
        assert referral_apps(uow) == [APP]
        key, share = find_share(uow, code.lower())
        page = landing(uow, key, share, on=TODAY)
    assert (key, share.referrer_id, share.campaign_id) == (APP, zhang, campaign)
    assert (page.state, page.campaign_name, page.referrer_masked) == ("open", "春季推荐有礼", "张*")
    assert page.rules.startswith("每成功推荐") and page.consent_purpose.zh.startswith("您的姓名")
    with Session(crm).read() as uow:
        assert landing(uow, key, share, on=date(2026, 2, 1)).state == "not_started"
        assert find_share(uow, "SPR25-NOBODY") is None


def test_the_friend_is_credited_to_the_first_touch_within_the_window(crm):
    (zhang, li), campaign, (zhang_code, li_code) = make_programme(crm)
    visitor = new_visitor_id()
    touch(crm, li_code, visitor, at=NOW - timedelta(days=40))          # outside the 30-day window
    touch(crm, zhang_code, visitor, at=NOW - timedelta(days=3), channel="qr")
    touch(crm, li_code, visitor, at=NOW - timedelta(hours=1))
    result = send(crm, li_code, FRIEND, visitor=visitor)
    assert (result.created, result.referrer_id, result.channel) == (True, zhang, "qr")
    stored = referral(crm, result.record_id)
    assert stored["referrer"] == zhang and stored["campaign"] == campaign
    assert (stored["channel"], stored["referral_code"], stored["device_id"]) == ("poster", zhang_code, visitor)
    assert stored["friend_phone"] == "13900000003" and stored["consent"] is True
    assert stored["consent_at"] == NOW and stored["client_ip"] == "10.0.0.9"
    with crm.connect() as conn:
        agents = conn.execute(sa.select(system.referral_touches.c.user_agent)).scalars().all()
    assert {len(a) for a in agents} == {255}


def test_last_touch_attribution_when_the_programme_says_so(crm, count_statements):
    definition = load_definition(FLAGSHIP_APP)
    definition.raw["referrals"]["attribution"] = {"touch": "last", "window_days": 7}
    apply_app(crm, definition)
    (zhang, li), _, (zhang_code, li_code) = make_programme(crm)
    visitor = new_visitor_id()
    touch(crm, zhang_code, visitor, at=NOW - timedelta(days=2))
    touch(crm, li_code, visitor, at=NOW - timedelta(days=1))
    with Session(crm).read() as uow:
        app = uow.app(APP)
        campaign = resolve(uow.conn, app, li_code).campaign_id
        with count_statements(crm) as counted:
            assert attributed_touch(uow.conn, app, campaign, visitor, at=NOW).referrer_id == li
        assert counted.count == 1
        assert attributed_touch(uow.conn, app, 1, "someone-else", at=NOW) is None
    result = send(crm, zhang_code, FRIEND, visitor=visitor)
    assert (result.referrer_id, result.channel) == (li, "link")


def test_without_touches_the_code_of_the_page_is_credited(crm):
    (zhang, _), _, (code, _) = make_programme(crm)
    result = send(crm, code, FRIEND, visitor=None)
    stored = referral(crm, result.record_id)
    assert (stored["referrer"], stored["channel"], stored.get("device_id")) == (zhang, "link", None)


def test_a_double_submit_answers_the_same_referral(crm):
    _, _, (code, _) = make_programme(crm)
    first = send(crm, code, FRIEND, visitor="v1")
    again = send(crm, code, FriendForm(name="王五", phone="13900000003", consent=True), visitor="v2")
    assert (again.record_id, again.created, first.created) == (first.record_id, False, True)
    with Session(crm).read() as uow:
        assert uow.records(APP).count("referrals").value == 1


@pytest.mark.parametrize("form, problems", [
    (FriendForm(name="王五", phone="12345", consent=True), {"friend_phone": "phone_invalid"}),
    (FriendForm(name="王五", phone="13900000003", consent=False), {"consent": "referral_consent_required"}),
    (FriendForm(name="", phone="abc", email="not-an-email", consent=False),
     {"friend_name": "required", "friend_phone": "phone_invalid", "friend_email": "email_invalid",
      "consent": "referral_consent_required"}),
])
def test_a_wrong_form_is_refused_field_by_field_and_nothing_is_written(crm, form, problems):
    _, _, (code, _) = make_programme(crm)
    with pytest.raises(RecordValidationError) as refused:
        send(crm, code, form, visitor="v1")
    assert {issue.field: issue.code for issue in refused.value.issues} == problems
    with Session(crm).read() as uow:
        assert uow.records(APP).count("referrals").value == 0


def test_an_ended_campaign_takes_no_referral(crm):
    _, _, (code, _) = make_programme(crm, ended=True)
    with Session(crm).read() as uow:
        key, share = find_share(uow, code)
        assert landing(uow, key, share, on=TODAY).state == "ended"
    with pytest.raises(CampaignClosed):
        send(crm, code, FRIEND, visitor="v1")


@pytest.mark.parametrize("name, masked", [("张三", "张*"), ("欧阳娜娜", "欧***"), ("John Smith", "J***"),
                                          ("", "*"), ("A", "A*")])
def test_names_are_masked(name, masked):
    assert mask_name(name) == masked


def test_visitor_ids_are_random_and_checked():
    made = new_visitor_id()
    assert valid_visitor_id(made) == made and made != new_visitor_id()
    assert valid_visitor_id("x" * 65) is None and valid_visitor_id("a;b") is None and valid_visitor_id("") is None


def test_two_submits_at_once_enter_one_referral(crm):
    _, _, (code, _) = make_programme(crm)
    start = threading.Barrier(2)

    def one(visitor):
        start.wait()
        return send(crm, code, FRIEND, visitor=visitor)
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(one, ["v1", "v2"]))
    assert sorted(a.created for a in answers) == [False, True]
    assert answers[0].record_id == answers[1].record_id
    with Session(crm).read() as uow:
        assert uow.records(APP).count("referrals").value == 1


def test_a_visit_costs_the_same_statements_however_many_touches_there_are(crm, count_statements):
    _, _, (code, other) = make_programme(crm)

    def counted_visit(visitor):
        with Session(crm).write() as uow:
            uow.app(APP)            # the compiled app loaded before counting
            with count_statements(crm) as counted:
                found = visit(uow, code, app_key=None, visitor=visitor, channel="link", ip=None,
                              user_agent=None, at=NOW)
        assert found.page.is_open
        return counted.count
    first = counted_visit("v0")
    for i in range(40):
        touch(crm, other, f"v{i}", at=NOW - timedelta(hours=i))
    assert counted_visit("v1") == first
    assert first <= 5, first      # the apps, the code, the campaign, the referrer, the touch

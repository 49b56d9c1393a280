"""The referrer's portal in the runtime: one-time links (signed, expiring, single-use,
of one app, only their hash kept), portal visits, asking for a link by phone (the same
answer whatever the phone), staff links under the permission policy, and what the
portal and the staff panel show, each list in one statement filtered by the customer."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from engine.storage import system
from engine.storage.types import utcnow
from runtime.jobs import dispatch
from runtime.permissions import FormAccess, PermissionDenied
from runtime.referrals.masking import mask_name, mask_phone
from runtime.referrals.portal import (
    LINK_MINUTES, MESSAGE_KIND, NoPhone, PortalLinkRefused, StaffPanel, check_link, customer_by_phone,
    end_visit, issue_link, portal_app_key, portal_view, redeem_link, referrals_view, request_link,
    rewards_view, staff_link, token_hash, totals_view, visitor)
from runtime.session import Session
from tests.support.portal import APP, SECRET, install, populate

LINKS = system.portal_links


@pytest.fixture(autouse=True)
def inline_jobs(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setattr(dispatch, "_down_until", {})


@pytest.fixture
def crm(db):
    install(db)
    return db


@pytest.fixture
def programme(crm):
    return populate(crm)


def issue(engine, customer_id, **options):
    with Session(engine).write() as uow:
        return issue_link(uow.conn, APP, customer_id, secret=SECRET, channel="staff_copy", **options)


def redeem(engine, token, app_key=APP, secret=SECRET, now=None):
    with Session(engine).write() as uow:
        return redeem_link(uow.conn, app_key, token, secret=secret, now=now)


def outbox(engine):
    with engine.connect() as conn:
        return conn.execute(sa.select(system.jobs).where(system.jobs.c.kind == MESSAGE_KIND)
                            .order_by(system.jobs.c.id)).mappings().all()


# ---- masking ------------------------------------------------------------------------

@pytest.mark.parametrize("name, masked", [("张三", "张*"), ("张", "张*"), ("欧阳娜娜", "欧***"), ("", ""),
                                          (None, ""), (" 李四 ", "李*"), ("Alice", "A****")])
def test_names_keep_their_first_character(name, masked):
    assert mask_name(name) == masked


@pytest.mark.parametrize("phone, masked", [("13812348000", "138****8000"), ("+86 138-1234-8000", "861****8000"),
                                           ("010-12345678", "010****5678"), ("12345", "***45"), ("12", "**"),
                                           ("", ""), (None, ""), ("abc", "")])
def test_phones_keep_the_first_three_and_last_four_digits(phone, masked):
    assert mask_phone(phone) == masked


# ---- links --------------------------------------------------------------------------

def test_a_link_signs_in_once_and_only_its_hash_is_kept(programme, crm):
    link = issue(crm, programme.referrer)
    with crm.connect() as conn:
        rows = conn.execute(sa.select(LINKS)).mappings().all()
    assert [r["token_hash"] for r in rows] == [token_hash(link.token)]
    assert all(link.token not in str(v) for r in rows for v in r.values())
    visit = redeem(crm, link.token)
    assert (visit.customer_id, visit.link_id) == (programme.referrer, link.link_id)
    with Session(crm).read() as uow:
        assert visitor(uow.conn, APP, visit.link_id) == programme.referrer
        assert visitor(uow.conn, "other_app", visit.link_id) is None
        assert visitor(uow.conn, APP, "1") is None and visitor(uow.conn, APP, True) is None
    with pytest.raises(PortalLinkRefused) as refused:
        redeem(crm, link.token)
    assert refused.value.reason == "used" and "只能使用一次" in refused.value.message("zh")


def test_an_expired_link_is_refused_by_its_row_and_by_its_signature(programme, crm):
    old = issue(crm, programme.referrer, now=utcnow() - timedelta(minutes=LINK_MINUTES + 1))
    with pytest.raises(PortalLinkRefused) as refused:
        redeem(crm, old.token)
    assert refused.value.reason == "expired"
    fresh = issue(crm, programme.referrer)
    with pytest.raises(PortalLinkRefused) as refused:     # the signature's own age too
        redeem(crm, fresh.token, now=utcnow() + timedelta(minutes=LINK_MINUTES + 1))
    assert refused.value.reason == "expired"
    assert "30" in refused.value.message("en")


@pytest.mark.parametrize("change", [lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
                                    lambda t: "x" + t, lambda t: "", lambda t: "not-a-token",
                                    lambda t: t.replace(".", "", 1)])
def test_a_tampered_link_is_refused(programme, crm, change):
    link = issue(crm, programme.referrer)
    with pytest.raises(PortalLinkRefused) as refused:
        redeem(crm, change(link.token))
    assert refused.value.reason == "invalid"
    redeem(crm, link.token)                 # the real one still works


def test_a_link_signed_with_another_secret_or_for_another_app_is_refused(programme, crm):
    link = issue(crm, programme.referrer)
    with pytest.raises(PortalLinkRefused) as refused:
        redeem(crm, link.token, secret="another-secret")
    assert refused.value.reason == "invalid"
    with pytest.raises(PortalLinkRefused) as refused:
        redeem(crm, link.token, app_key="another_app")
    assert refused.value.reason == "other_app"
    with Session(crm).write() as uow:       # a genuine token of another app, its row too
        other = issue_link(uow.conn, "another_app", programme.referrer, secret=SECRET, channel="self")
    with pytest.raises(PortalLinkRefused) as refused:
        redeem(crm, other.token)
    assert refused.value.reason == "other_app"


def test_checking_a_link_does_not_use_it_and_sign_out_ends_the_visit(programme, crm):
    link = issue(crm, programme.referrer)
    with Session(crm).read() as uow:
        assert check_link(uow.conn, APP, link.token, secret=SECRET).customer_id == programme.referrer
    visit = redeem(crm, link.token)
    with Session(crm).write() as uow:
        end_visit(uow.conn, visit.link_id)
    with Session(crm).read() as uow:
        assert visitor(uow.conn, APP, visit.link_id) is None
        later = utcnow() + timedelta(days=8)
    visit = redeem(crm, issue(crm, programme.referrer).token)
    with Session(crm).read() as uow:
        assert visitor(uow.conn, APP, visit.link_id, now=later) is None        # the session is over


# ---- asking for a link by phone -----------------------------------------------------

def test_asking_with_a_customers_phone_puts_one_message_in_the_outbox(programme, crm, caplog):
    for phone in ("+86 138 0000 0001", "13800000001"):           # asked twice: one message
        with Session(crm).write() as uow:
            assert request_link(uow, APP, phone, secret=SECRET, base_url="https://crm.example.cn/") is None
    [job] = outbox(crm)
    assert job["payload"]["customer"] == programme.referrer
    text = job["payload"]["text"]["zh"]
    assert "https://crm.example.cn/portal/login/" in text and "30 分钟" in text
    token = text.rsplit("/", 1)[1]
    with crm.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(LINKS)).scalar() == 1
    assert redeem(crm, token).customer_id == programme.referrer
    assert "138****0001" in caplog.text and "13800000001" not in caplog.text


@pytest.mark.parametrize("phone", ["13000000000", "", "1", "'; DROP TABLE fw_portal_links; --", "x" * 500])
def test_asking_with_any_other_phone_does_nothing_and_says_the_same(programme, crm, phone):
    with Session(crm).write() as uow:
        assert request_link(uow, APP, phone, secret=SECRET, base_url="http://x") is None
    assert outbox(crm) == []
    with Session(crm).write() as uow:       # nor for an app that is not installed
        assert request_link(uow, "nope", "13800000001", secret=SECRET, base_url="http://x") is None


def test_the_customer_of_a_phone_is_found_in_one_statement(programme, crm, count_statements):
    with Session(crm).read() as uow:
        app = uow.app(APP)
        with count_statements(crm) as counted:
            assert customer_by_phone(uow.conn, app, "139-0000-0009") == programme.other
        assert counted.count == 1
        assert portal_app_key(uow.conn) == APP and portal_app_key(uow.conn, "nope") is None


# ---- staff links --------------------------------------------------------------------

def test_staff_copy_a_link_or_send_it_to_the_customers_phone(programme, crm):
    with Session(crm).write() as uow:
        copied = staff_link(uow, APP, programme.referrer, secret=SECRET, base_url="https://crm.example.cn",
                            send=False)
        sent = staff_link(uow, APP, programme.other, secret=SECRET, base_url="https://crm.example.cn", send=True)
    assert copied["url"].startswith("https://crm.example.cn/portal/login/")
    assert sent == {"sent": True, "phone": "139****0009", "expires_at": sent["expires_at"]}
    assert "url" not in sent
    assert redeem(crm, copied["url"].rsplit("/", 1)[1]).customer_id == programme.referrer
    [job] = outbox(crm)
    assert job["payload"]["customer"] == programme.other


def test_staff_links_need_the_right_to_edit_the_customer(programme, crm):
    class ViewOnly:
        def access(self, app, form, actor):
            return FormAccess(actions=frozenset({"view"})) if form.key == "customers" else FormAccess()

    class OthersOnly:
        def access(self, app, form, actor):
            table = app.tables.form_table(form.key)
            return FormAccess(row_scope=table.c.id != programme.referrer) if form.key == "customers" \
                else FormAccess()

    with Session(crm, policy=ViewOnly()).write() as uow, pytest.raises(PermissionDenied) as denied:
        staff_link(uow, APP, programme.referrer, secret=SECRET, base_url="http://x", send=False)
    assert "编辑" in denied.value.message("zh")
    from engine.errors import NotFound
    with Session(crm, policy=OthersOnly()).write() as uow, pytest.raises(NotFound):
        staff_link(uow, APP, programme.referrer, secret=SECRET, base_url="http://x", send=False)
    with Session(crm).write() as uow, pytest.raises(NotFound):
        staff_link(uow, APP, 999999, secret=SECRET, base_url="http://x", send=False)
    with Session(crm).write() as uow:
        phoneless = uow.records(APP).create("customers", {"name": "无电话", "kind": "person"})["id"]
    with Session(crm).write() as uow, pytest.raises(NoPhone):
        staff_link(uow, APP, phoneless, secret=SECRET, base_url="http://x", send=True)


# ---- what the referrer sees ---------------------------------------------------------

def test_the_portal_shows_the_referrers_own_codes_referrals_and_rewards_masked(programme, crm):
    with Session(crm).read() as uow:
        view = portal_view(uow.conn, uow.app(APP), programme.referrer, on=date.today(), lang="en",
                           base_url="https://crm.example.cn/")
    assert view["customer"]["name"] == "老王"
    [code] = view["codes"]
    assert code["code"] == f"SPR-{programme.code}" and code["campaign"] == "春季推荐"
    assert code["url"] == f"https://crm.example.cn/r/SPR-{programme.code}"
    assert code["poster_url"] == f"https://crm.example.cn/r/SPR-{programme.code}/poster.png"
    assert [(r["friend_name"], r["friend_phone"], r["status"], r["status_label"]) for r in view["referrals"]] == [
        ("李**", "137****1234", "contacted", "Contacted"), ("张*", "138****8000", "converted", "Converted")]
    assert "王五" not in str(view) and "13600005678" not in str(view)       # 老赵's friend
    [reward] = view["rewards"]
    assert (reward["amount"], reward["status"], reward["status_label"], reward["friend"]) == \
        (Decimal(2000), "pending", "Held", "张*")
    assert reward["explanation"].startswith('Rule "Referrer\'s share of the first contract"')
    assert "amount 2000" in reward["explanation"]
    [cash] = view["totals"]
    assert (cash["kind"], cash["earned"], cash["pending"], cash["paid"], cash["cancelled"]) == \
        ("cash", Decimal(2000), Decimal(2000), 0, 0)
    with Session(crm).read() as uow:
        zh = rewards_view(uow.conn, uow.app(APP), programme.referrer, lang="zh", masked=True)
    assert zh[0]["explanation"].startswith("规则“推荐人成交分成”") and zh[0]["status_label"] == "冷静期中"


def test_the_friend_sees_their_coupon_and_a_stranger_sees_nothing(programme, crm):
    with Session(crm).read() as uow:
        app = uow.app(APP)
        friend = portal_view(uow.conn, app, programme.friend, on=date.today(), lang="zh", base_url="http://x")
        assert portal_view(uow.conn, app, 999999, on=date.today(), lang="zh", base_url="http://x") is None
    assert friend["referrals"] == []
    [coupon] = friend["rewards"]
    assert (coupon["kind"], coupon["coupon"], coupon["friend"]) == ("coupon", "WELCOME", "")
    assert friend["totals"][0]["kind"] == "coupon"


def test_totals_count_paid_and_cancelled_rewards(programme, crm):
    with Session(crm).write() as uow:
        uow.conn.execute(system.reward_entries.update().where(
            system.reward_entries.c.beneficiary_id == programme.referrer).values(status="paid"))
        uow.conn.execute(system.reward_entries.insert().values(
            app_key=APP, rule_key="referrer_share", kind="reward", beneficiary_id=programme.referrer, level=1,
            once_key="x", source_form="contracts", source_id=0, friend_id=programme.friend, reward_kind="cash",
            amount_cents=12345, status="cancelled", earned_on="2026-01-01", vests_on="2026-01-31",
            counters=[], explanation={}, created_at=utcnow(), updated_at=utcnow()))
    with Session(crm).read() as uow:
        [cash] = totals_view(uow.conn, APP, programme.referrer)
        rewards = rewards_view(uow.conn, uow.app(APP), programme.referrer, lang="zh", masked=True)
    assert (cash["earned"], cash["pending"], cash["paid"], cash["cancelled"]) == \
        (Decimal(2000), 0, Decimal(2000), Decimal("123.45"))
    assert cash["cancelled_text"] == "123.45" and cash["earned_text"] == "2,000.00"
    assert [r["status"] for r in rewards] == ["cancelled", "paid"] and rewards[0]["explanation"] == ""


def test_each_list_is_one_statement_however_many_rows(programme, crm, count_statements):
    def counts():
        with Session(crm).read() as uow:
            app = uow.app(APP)
            with count_statements(crm) as counted:
                referrals_view(uow.conn, app, programme.referrer, lang="zh", masked=True)
            found = [counted.count]
            with count_statements(crm) as counted:
                rewards_view(uow.conn, app, programme.referrer, lang="zh", masked=True)
            found.append(counted.count)
            with count_statements(crm) as counted:
                totals_view(uow.conn, APP, programme.referrer)
            found.append(counted.count)
            with count_statements(crm) as counted:
                portal_view(uow.conn, app, programme.referrer, on=date.today(), lang="zh", base_url="http://x")
            found.append(counted.count)
        return found
    before = counts()
    assert before == [1, 1, 1, 6]            # the customer, codes, campaign names, referrals, rewards, totals
    Session(crm).write(lambda uow: [uow.records(APP).create("referrals", {
        "referrer": programme.referrer, "campaign": programme.campaign, "friend_name": f"朋友{i}",
        "friend_phone": f"1350000{i:04d}", "consent": True}) for i in range(20)])
    assert counts() == before


# ---- the staff panel ----------------------------------------------------------------

def test_staff_see_the_customers_referrals_unmasked_within_their_permissions(programme, crm):
    with Session(crm).read() as uow:
        panel = StaffPanel(uow, APP)
        assert panel.applies("customers") and not panel.applies("contracts")
        shown = panel.view(programme.referrer, lang="zh", on=date.today(), base_url="http://x")
    assert [(r["friend_name"], r["friend_phone"]) for r in shown["referrals"]] == [
        ("李四娘", "13700001234"), ("张三", "13812348000")]
    assert shown["rewards"][0]["friend"] == "张三" and shown["can_link"]
    assert shown["totals"][0]["earned"] == Decimal(2000)

    class HidesPhones:
        def access(self, app, form, actor):
            if form.key == "referrals":
                table = app.tables.form_table("referrals")
                return FormAccess.limited(form, visible=[k for k in form.field_keys() if k != "friend_phone"],
                                          row_scope=table.c.friend_name != "李四娘")
            return FormAccess()

    class NoReferrals:
        def access(self, app, form, actor):
            return FormAccess(actions=frozenset()) if form.key == "referrals" else FormAccess()

    with Session(crm, policy=HidesPhones()).read() as uow:
        shown = StaffPanel(uow, APP).view(programme.referrer, lang="zh", on=date.today(), base_url="http://x")
    assert [(r["friend_name"], r["friend_phone"]) for r in shown["referrals"]] == [("张三", "138****8000")]
    with Session(crm, policy=NoReferrals()).read() as uow:
        shown = StaffPanel(uow, APP).view(programme.referrer, lang="zh", on=date.today(), base_url="http://x")
    assert (shown["referrals"], shown["rewards"], shown["totals"], shown["can_view"]) == (None, None, None, False)
    assert shown["codes"]

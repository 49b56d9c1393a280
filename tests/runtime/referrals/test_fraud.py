"""The fraud checks on every referral (runtime/referrals/fraud.py, docs/referrals.md):
each check firing and not, block over flag, the reasons' wording, a constant number of
statements whatever the batch, two writers at the limit, the review queue deciding, and
the rewards waiting for it."""
from __future__ import annotations

import csv
import threading
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa
import yaml

from engine.referrals.model import referral_programme_of
from engine.storage import system
from engine.validation import load_definition
from runtime.apps import apply_app
from runtime.import_export import import_file
from runtime.org import Org
from runtime.referrals.fraud import check_referrals, is_disposable
from runtime.referrals.verdicts import verdicts
from runtime.session import Session
from tests.runtime.rewards.support import ledger
from tests.support.paths import FLAGSHIP_APP

APP = "crm_referral"


@pytest.fixture
def crm(db):
    apply_app(db, load_definition(FLAGSHIP_APP))
    with db.begin() as conn:
        org = Org(conn)
        mia = org.users.add("mia", "Mia").id
        org.roles.create("sales_manager", "销售经理")
        org.roles.assign("sales_manager", [mia])
    return db


def customer(crm, name="老王", phone="13800000001", email=None, referrer=None):
    return Session(crm).write(lambda uow: uow.records(APP).create(
        "customers", {"name": name, "kind": "person", "phone": phone, "email": email, "referrer": referrer}))["id"]


def friend(i, **extra):
    return {"friend_name": f"朋友{i}", "friend_phone": f"139{i:08d}", "consent": True, **extra}


def refer(crm, referrer, *rows):
    """Create referrals of `referrer` in one write; their (status, reasons)."""
    made = Session(crm).write(lambda uow: uow.records(APP).bulk_create(
        "referrals", [{"referrer": referrer, **row} for row in rows]))
    return [(r["fields"]["fraud_status"], r["fields"]["fraud_reasons"]) for r in made]


def test_a_plain_referral_is_clear_with_no_reasons(crm):
    me = customer(crm)
    assert refer(crm, me, friend(1, client_ip="10.0.0.1", device_id="dev-a", friend_email="li@example.com")) \
        == [("clear", None)]


def test_the_sixth_referral_within_the_hour_is_flagged_the_fifth_is_not(crm):
    me = customer(crm)
    made = refer(crm, me, *[friend(i) for i in range(5)])
    assert [s for s, _ in made] == ["clear"] * 5                       # exactly at the limit (5)
    [(status, reasons)] = refer(crm, me, friend(5))
    assert status == "flagged"
    assert reasons == ("同一推荐人 1 小时内第 6 次推荐（上限 5）（待复核）\n"
                       "the referrer's referral no. 6 within 1 hour (limit 5) (flagged)")


def test_counts_within_one_batch_go_in_creation_order(crm):
    me = customer(crm)
    assert [s for s, _ in refer(crm, me, *[friend(i) for i in range(7)])] == ["clear"] * 5 + ["flagged"] * 2


def test_many_friends_from_one_ip_in_a_day_are_flagged_and_a_missing_ip_counts_nothing(crm):
    referrers = [customer(crm, f"客户{i}", f"1370000000{i}") for i in range(7)]
    results = [refer(crm, who, friend(i, client_ip="203.0.113.9"))[0] for i, who in enumerate(referrers[:6])]
    assert [s for s, _ in results] == ["clear"] * 5 + ["flagged"]
    assert "同一 IP（203.0.113.9）24 小时内第 6 次推荐（上限 5）" in results[5][1]
    assert refer(crm, referrers[6], friend(9)) == [("clear", None)]          # no IP


def test_a_self_referral_by_email_device_or_ip_is_blocked_and_block_wins_over_flag(crm):
    me = customer(crm, email="Wang@Example.com")
    # The referrer was once a friend themself: that referral carries their own device and IP.
    them = customer(crm, "介绍人", "13700000009")
    refer(crm, them, {"friend_name": "老王", "friend_phone": "13800000001", "consent": True,
                      "friend_customer": me, "device_id": "dev-own", "client_ip": "198.51.100.7"})
    [(status, reasons)] = refer(crm, me, friend(1, friend_email="wang@example.com"))
    assert status == "blocked" and reasons.startswith("被推荐人邮箱与推荐人本人邮箱相同（自我推荐）（拦截）")
    assert refer(crm, me, friend(2, device_id="dev-own"))[0][0] == "blocked"
    [(status, reasons)] = refer(crm, me, friend(3, client_ip="198.51.100.7", friend_email="x@mailinator.com"))
    assert status == "blocked"                       # block (self) over flag (disposable email)
    assert "（拦截）" in reasons and "mailinator.com）（待复核）" in reasons
    assert refer(crm, me, friend(4, device_id="dev-other", client_ip="192.0.2.1"))[0] == ("clear", None)


def test_a_self_referral_by_phone_is_blocked_when_no_rule_refuses_it(db, tmp_path):
    raw = yaml.safe_load(FLAGSHIP_APP.read_text(encoding="utf-8"))
    form = next(f for f in raw["forms"] if f["key"] == "referrals")
    form["rules"] = [r for r in form["rules"] if r["key"] != "not_self_referral"]
    path = tmp_path / "crm.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    apply_app(db, load_definition(path))
    me = customer(db, phone="13800000001")
    [(status, reasons)] = refer(db, me, {"friend_name": "自己", "friend_phone": "138 0000 0001", "consent": True})
    assert status == "blocked"
    assert reasons == ("被推荐人电话与推荐人本人电话相同（自我推荐）（拦截）\n"
                       "the friend's phone is the referrer's own (self-referral) (blocked)")


def test_a_friend_already_a_customer_is_flagged_unless_it_is_this_referrals_own_friend(crm):
    me = customer(crm)
    known = customer(crm, "张晓明·Ünïcødé", "13900000001")
    [(status, reasons)] = refer(crm, me, friend(1))
    assert status == "flagged" and "被推荐人已是客户（张晓明·Ünïcødé）" in reasons
    assert refer(crm, me, friend(1, friend_customer=known, friend_phone="13900000001",
                                 friend_name="张晓明"))[0][1].count("已是客户") == 0
    customer(crm, "邮箱客户", "13600000000", email="mail@example.com")
    assert "已是客户（邮箱客户）" in refer(crm, me, friend(7, friend_email="MAIL@example.com"))[0][1]


def test_a_phone_referred_before_is_flagged_the_first_referral_is_not(crm):
    one, two = customer(crm), customer(crm, "老李", "13800000002")
    assert refer(crm, one, friend(1)) == [("clear", None)]
    [(status, reasons)] = refer(crm, two, friend(1))
    assert status == "flagged" and "该电话已被推荐过 1 次" in reasons and "referred 1 time(s) before" in reasons


def test_disposable_email_domains_builtin_subdomains_and_the_programmes_own(crm):
    me = customer(crm)
    assert refer(crm, me, friend(1, friend_email="a@yopmail.com"))[0][0] == "flagged"
    assert refer(crm, me, friend(2, friend_email="a@qq.com"))[0] == ("clear", None)
    assert refer(crm, me, friend(3))[0] == ("clear", None)                   # no email
    raw = yaml.safe_load(FLAGSHIP_APP.read_text(encoding="utf-8"))
    raw["referrals"]["fraud"]["disposable_domains"] = ["Throwaway.CN"]
    programme = referral_programme_of(load_definition(yaml.safe_dump(raw, allow_unicode=True)))
    assert is_disposable("x@throwaway.cn", programme) == "throwaway.cn"
    assert is_disposable("x@sub.mailinator.com", programme) == "mailinator.com"
    assert is_disposable("x@mailinator.com.cn", programme) is None
    assert is_disposable("no-at-sign", programme) is None


def test_an_off_check_never_fires(db, tmp_path):
    raw = yaml.safe_load(FLAGSHIP_APP.read_text(encoding="utf-8"))
    raw["referrals"]["fraud"]["per_hour"] = {"limit": 1, "action": "off"}
    raw["referrals"]["fraud"]["per_day"] = {"limit": 2, "action": "block"}
    path = tmp_path / "crm.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    apply_app(db, load_definition(path))
    me = customer(db)
    made = refer(db, me, *[friend(i) for i in range(3)])
    assert [s for s, _ in made] == ["clear", "clear", "blocked"]
    assert "1 小时" not in made[2][1] and "24 小时内第 3 次推荐（上限 2）（拦截）" in made[2][1]


def test_statements_are_the_same_for_one_referral_and_a_hundred(crm, count_statements):
    me = customer(crm)
    customer(crm, "已是客户", "13900000000")          # friend 0 is already a customer: something fires

    def statements(rows):
        def work(uow):          # the write's own statements (not the review job run after the commit)
            with count_statements(crm) as counted:
                made = uow.records(APP).bulk_create("referrals", [{"referrer": me, **row} for row in rows])
            assert "flagged" in {r["fields"]["fraud_status"] for r in made}
            return counted.count
        return Session(crm).write(work)
    # Flagged in both (the one: already a customer; of the hundred, those over the hour's limit of 5).
    one = statements([friend(0, client_ip="10.1.1.1")])
    hundred = statements([friend(i, client_ip="10.1.1.1") for i in range(1000, 1100)])
    assert one == hundred, (one, hundred)
    with Session(crm).read() as uow:
        app = uow.app(APP)
    with crm.connect() as conn:
        table = app.tables.form_table("referrals")
        ids = list(conn.execute(sa.select(table.c.id)).scalars())
        later = datetime.now(timezone.utc) + timedelta(days=3)     # out of every window: verdicts move
        with count_statements(crm) as counted:
            check_referrals(conn, app, ids, later, [{"referrer": me}] * len(ids))
        # PostgreSQL's advisory locks, the SELECT, the UPDATE, the history INSERT
        assert counted.count == (4 if crm.dialect.name == "postgresql" else 3), counted.statements
        conn.rollback()


def test_two_writers_at_the_limit_flag_exactly_one(crm):
    me = customer(crm)
    refer(crm, me, *[friend(i) for i in range(4)])
    barrier, results, errors = threading.Barrier(2), [], []

    def one(i):
        try:
            barrier.wait()
            results.append(refer(crm, me, friend(100 + i))[0][0])
        except Exception as exc:       # reported below
            errors.append(exc)
    threads = [threading.Thread(target=one, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(results) == ["clear", "flagged"]


def _review_task(crm):
    t, i = system.workflow_tasks, system.workflow_instances
    with crm.connect() as conn:
        return conn.execute(sa.select(t.c.id, t.c.assignee_id, i.c.record_id).join(i, i.c.id == t.c.instance_id)
                            .where(t.c.status == "pending", i.c.workflow_key == "referral_review")).all()


def _decide(crm, task_id, action):
    Session.for_user(crm, "mia").write(lambda uow: uow.workflows.act(task_id, action))


def _status(crm, record_id):
    return Session(crm).write(lambda uow: uow.records(APP).get("referrals", record_id))["fields"]["fraud_status"]


@pytest.mark.parametrize("action, decided", [("approve", "clear"), ("reject", "blocked")])
def test_a_flagged_referral_waits_in_the_sales_managers_inbox_and_the_decision_sets_its_status(crm, action,
                                                                                                decided):
    me = customer(crm)
    customer(crm, "老客户", "13900000001")
    refer(crm, me, friend(1))
    [(task_id, assignee, record_id)] = _review_task(crm)
    with crm.connect() as conn:
        assert assignee == conn.execute(sa.select(system.users.c.id).where(system.users.c.account == "mia")).scalar()
    assert _status(crm, record_id) == "flagged"
    _decide(crm, task_id, action)
    assert _status(crm, record_id) == decided
    assert refer(crm, me, friend(2)) == [("clear", None)]      # a clear one starts no review
    assert len(_review_task(crm)) == 0


@pytest.mark.parametrize("action, earned", [("approve", True), ("reject", False)])
def test_the_rewards_of_a_flagged_referral_wait_for_the_review(crm, action, earned):
    today = date.today()
    me = customer(crm)
    friend_id = customer(crm, "小李", "13900000001", referrer=me)      # a customer before the referral:
    refer(crm, me, friend(1, friend_customer=friend_id))                # flagged? no: it is its own friend
    with Session(crm).read() as uow:
        app = uow.app(APP)
    with crm.connect() as conn:
        assert verdicts(conn, app, [friend_id, 999999]) == {friend_id: "clear"}
    other = customer(crm, "小张", "13900000002", referrer=me)
    customer(crm, "重名电话", "13900000003")
    refer(crm, me, friend(3, friend_customer=other))                      # phone of another customer: flagged
    [(task_id, _a, _r)] = _review_task(crm)

    def contract_paid(uow):
        records = uow.records(APP)
        made = records.create("contracts", {
            "title": "首单", "customer": other, "amount": Decimal(10000), "signed_on": today - timedelta(days=1),
            "items": [{"product": "专业版", "quantity": 1, "unit_price": Decimal(10000)}]})
        records.create("payments", {"contract": made["id"], "amount": Decimal(10000), "paid_on": today})
    Session(crm).write(contract_paid)
    assert [e for e in ledger(crm) if e["friend_id"] == other] == []          # waiting
    with crm.connect() as conn:
        assert verdicts(conn, app, [other])[other] == "flagged"
    _decide(crm, task_id, action)
    entered = [e for e in ledger(crm) if e["friend_id"] == other]
    assert bool(entered) is earned
    if earned:
        assert {e["rule_key"] for e in entered} == {"referrer_share", "friend_coupon"}


def test_a_campaign_may_set_its_own_limits(crm):
    me = customer(crm)

    def campaigns(uow):
        make = lambda prefix, **limits: uow.records(APP).create("referral_campaigns", {  # noqa: E731
            "name": f"活动{prefix}", "code_prefix": prefix, "status": "running", "starts_on": date(2026, 1, 1),
            **limits})["id"]
        return make("BIG", fraud_per_hour=7), make("SMALL", fraud_per_hour=2), make("PLAIN")
    big, small, plain = Session(crm).write(campaigns)
    made = refer(crm, me, *[friend(i, campaign=big) for i in range(8)])
    assert [s for s, _ in made] == ["clear"] * 7 + ["flagged"]
    assert "第 8 次推荐（上限 7）" in made[7][1]
    other = customer(crm, "老李", "13800000002")
    made = refer(crm, other, *[friend(20 + i, campaign=small) for i in range(3)])
    assert [s for s, _ in made] == ["clear", "clear", "flagged"] and "（上限 2）" in made[2][1]
    third = customer(crm, "老张", "13800000003")
    made = refer(crm, third, *[friend(40 + i, campaign=plain) for i in range(6)])
    assert [s for s, _ in made] == ["clear"] * 5 + ["flagged"]                # the programme's 5


def test_imported_referrals_are_checked_and_their_review_is_queued(crm, tmp_path):
    customer(crm, "老王", "13800000001")
    path = tmp_path / "referrals.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["推荐人", "被推荐人", "被推荐人电话", "被推荐人已同意联系", "来源 IP"])
        for i in range(7):
            out.writerow(["老王", f"朋友{i}", f"139{i:08d}", "是", "198.51.100.1"])
    report = import_file(crm, APP, "referrals", path)
    assert report.rows_imported == 7, report.problems
    with Session(crm).read() as uow:
        rows = uow.records(APP).list("referrals", sort=[{"field": "id", "dir": "asc"}]).records
        assert [r["fields"]["fraud_status"] for r in rows] == ["clear"] * 5 + ["flagged"] * 2
    j = system.jobs
    with crm.connect() as conn:
        [payload] = conn.execute(sa.select(j.c.payload).where(j.c.kind == "referrals.review")).scalars()
    assert payload["records"] == [rows[5]["id"], rows[6]["id"]]


def test_an_import_with_the_verdict_column_keeps_the_files_verdicts(crm, tmp_path):
    customer(crm, "老王", "13800000001")
    path = tmp_path / "restore.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["推荐人", "被推荐人", "被推荐人电话", "被推荐人已同意联系", "风控结果"])
        for i in range(7):
            out.writerow(["老王", f"朋友{i}", f"139{i:08d}", "是", "通过"])
    assert import_file(crm, APP, "referrals", path).rows_imported == 7
    with Session(crm).read() as uow:
        rows = uow.records(APP).list("referrals").records
    assert {r["fields"]["fraud_status"] for r in rows} == {"clear"}

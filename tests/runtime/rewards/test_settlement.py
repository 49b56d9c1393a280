"""Settling rewards on SQLite and PostgreSQL: every rule shape (referrer, friend, the one
indirect level), tiers, milestones, caps, the hold and vesting, cancel and clawback on
refund, approval and payout; each explanation recomputes to its stored amount."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest

from engine.rewards import recompute
from runtime.jobs import scheduler
from runtime.rewards import LedgerRefused, approve, chain_report, pay, settle_record
from runtime.session import Session
from tests.conftest import StatementCounter
from tests.runtime.rewards.support import customers, deal, install, ledger, pay_silently, rule, update


def assert_explained(entries):
    for entry in entries:
        if entry["kind"] == "reward":
            assert recompute(entry["explanation"]) == entry["amount"], entry["explanation"]
            assert entry["explanation"]["text"]["zh"] and entry["explanation"]["text"]["en"]


def test_the_referrer_earns_when_the_deal_is_paid_and_the_entry_explains_itself(db):
    install(db, rule("share"))
    referrer, friend = customers(db, "老王", "小李")
    unpaid = deal(db, friend, 12345.67, paid=False)
    assert ledger(db) == []
    update(db, unpaid, paid=True)
    [entry] = ledger(db)
    assert (entry["beneficiary_id"], entry["friend_id"], entry["level"], entry["amount"], entry["status"]) == \
        (referrer, friend, 1, Decimal("1234.57"), "vested")
    e = entry["explanation"]
    assert e["inputs"] == {"amount": {"$decimal": "12345.67"}} and e["formula"] == "ROUND(amount * 0.1, 2)"
    assert e["chain"] == [friend, referrer] and e["earned_on"] == "2026-03-02"
    assert "amount = 12345.67" in e["text"]["en"] and "奖励金额 1234.57" in e["text"]["zh"]
    assert_explained(ledger(db))


def test_friend_referrer_and_the_one_indirect_level_each_get_their_own_entry(db):
    install(db, rule("friend", beneficiary="friend", reward={"kind": "coupon", "coupon": "WELCOME"},
                     amount="IF(amount >= 50000, 500, 200)"),
            rule("direct"), rule("grand", beneficiary="indirect", allow_indirect=True, amount="ROUND(amount * 0.01, 2)"))
    top, a, b, c, d = customers(db, "顶", "甲", "乙", "丙", "丁")
    deal(db, d, 60000)
    by_rule = {e["rule_key"]: e for e in ledger(db)}
    assert {k: (e["beneficiary_id"], e["amount"]) for k, e in by_rule.items()} == \
        {"friend": (d, Decimal(500)), "direct": (c, Decimal(6000)), "grand": (b, Decimal(600))}
    assert by_rule["friend"]["reward_kind"] == "coupon" and by_rule["friend"]["coupon"] == "WELCOME"
    # the whole chain is kept and reported, five deep; no reward goes past the one indirect level
    assert by_rule["grand"]["explanation"]["chain"] == [d, c, b, a, top]
    report = Session(db).read(lambda uow: chain_report(uow, "ref", "customers"))
    assert report[top]["levels"] == {1: 1, 2: 1, 3: 1, 4: 1} and report[c]["rewards"] == Decimal(6000)
    assert_explained(ledger(db))


def test_a_friend_without_a_referrer_earns_the_referrer_nothing(db):
    install(db, rule("share"))
    [alone] = customers(db, "独")
    deal(db, alone, 1000)
    assert ledger(db) == []


def test_tiers_by_the_nth_referral_of_the_year_and_milestones(db):
    install(db, rule("tiered", amount="ROUND(amount * rate, 2)", once_per="friend",
                     tiers={"period": "year", "steps": [{"from": 1, "rate": 0.05}, {"from": 5, "rate": 0.08}]},
                     milestones=[{"at": 3, "bonus": 200}, {"at": 5, "bonus": 500}]))
    [referrer] = customers(db, "推荐人")
    friends = Session(db).write(lambda uow: [uow.records("ref").create("customers", {"name": f"友{i}",
                                                                                      "referrer": referrer})["id"]
                                             for i in range(6)])
    for friend in friends:
        deal(db, friend, 10000)
    deal(db, friends[0], 10000)                     # a second deal of the first friend: once per friend
    deal(db, friends[1], 10000, on=date(2027, 1, 5))  # ... and another year counts from 1 again
    rows = ledger(db)
    assert [(e["explanation"]["nth"], e["amount"]) for e in rows] == [
        (1, Decimal(500)), (2, Decimal(500)), (3, Decimal(700)), (4, Decimal(500)), (5, Decimal(1300)),
        (6, Decimal(800))]
    assert rows[4]["explanation"]["tier"] == {"from": 5, "rate": "0.08"}
    assert_explained(rows)


def test_caps_per_referral_per_month_and_the_budget(db):
    install(db, rule("capped", caps={"per_referral": 800, "per_month": 1500, "budget": 2000}))
    [referrer] = customers(db, "推荐人")
    friends = Session(db).write(lambda uow: [uow.records("ref").create("customers", {"name": f"友{i}",
                                                                                      "referrer": referrer})["id"]
                                             for i in range(4)])
    deal(db, friends[0], 5000)                       # 500
    deal(db, friends[0], 5000)                       # 500 more for the same friend: 300 left of 800
    deal(db, friends[1], 9000)                       # 900 > 800 per referral; 1500 a month: 700 left
    deal(db, friends[2], 9000, on=date(2026, 4, 1))  # next month: 800; budget 2000: 500 left
    deal(db, friends[3], 9000, on=date(2026, 5, 1))  # budget spent
    rows = ledger(db)
    assert [e["amount"] for e in rows] == [Decimal(500), Decimal(300), Decimal(700), Decimal(500), Decimal(0)]
    assert rows[-1]["status"] == "zero"
    assert [c["cap"] for c in rows[2]["explanation"]["caps"] if Decimal(c["cut"]) > 0] == ["per_referral", "per_month"]
    assert "campaign budget 2000 (2000 used before) cut 800.00" in rows[-1]["explanation"]["text"]["en"]
    assert sum(e["amount"] for e in rows) == Decimal(2000)
    assert_explained(rows)


def test_a_held_reward_vests_on_the_scheduler_and_a_refund_within_the_hold_cancels_it(db):
    install(db, rule("held", hold_days=30))
    referrer, kept_friend, quick_friend = customers(db, "甲", "乙", "丙")
    today = date.today()
    deal(db, kept_friend, 1000, on=today)
    [entry] = ledger(db)
    vests_on = today + timedelta(days=30)
    assert (entry["status"], entry["vests_on"]) == ("pending", vests_on.isoformat())
    assert "held 30 days" in entry["explanation"]["text"]["en"] and "冷静期 30 天" in entry["explanation"]["text"]["zh"]
    Session(db).write(lambda uow: uow.records("ref").update("customers", quick_friend, {"referrer": referrer}))
    refunded = deal(db, quick_friend, 2000, on=today)
    update(db, refunded, refunded=True)
    assert [e["status"] for e in ledger(db)] == ["pending", "cancelled"]
    tz = Session(db).tz
    scheduler.tick(db, now=datetime.combine(vests_on - timedelta(days=1), time(12), tz))
    assert ledger(db)[0]["status"] == "pending"
    scheduler.tick(db, now=datetime.combine(vests_on, time(0, 1), tz))
    assert [e["status"] for e in ledger(db)] == ["vested", "cancelled"]


def test_a_refund_after_vesting_claws_back_with_a_negative_entry_linked_to_the_original(db):
    install(db, rule("share", approval=True, caps={"per_month": 1000}))
    referrer, friend, other = customers(db, "甲", "乙", "丙")
    first = deal(db, friend, 8000)
    [reward] = ledger(db)
    Session(db).write(lambda uow: approve(uow, "ref", [reward["id"]]))
    Session(db).write(lambda uow: pay(uow, "ref", [reward["id"]]))
    assert ledger(db)[0]["status"] == "paid" and ledger(db)[0]["paid_on"]
    update(db, first, refunded=True)
    update(db, first, amount=Decimal(7999))          # settled again: nothing more
    original, clawback = ledger(db)
    assert original["status"] == "clawed_back"
    assert (clawback["kind"], clawback["amount"], clawback["original_id"]) == ("clawback", Decimal(-800), original["id"])
    # the month's cap is given back: another friend earns in full
    Session(db).write(lambda uow: uow.records("ref").update("customers", other, {"referrer": referrer}))
    deal(db, other, 9000)
    assert ledger(db)[-1]["amount"] == Decimal(900)


def test_approval_comes_before_payout(db):
    install(db, rule("share", approval=True))
    _, friend = customers(db, "甲", "乙")
    deal(db, friend, 1000)
    [entry] = ledger(db)
    with pytest.raises(LedgerRefused, match="approve them first"):
        Session(db).write(lambda uow: pay(uow, "ref", [entry["id"]]))
    Session(db).write(lambda uow: approve(uow, "ref", [entry["id"]]))
    with pytest.raises(LedgerRefused, match="vested"):
        Session(db).write(lambda uow: approve(uow, "ref", [entry["id"]]))


def test_settling_again_enters_nothing_more(db):
    install(db, rule("share"), rule("friend", beneficiary="friend", amount="100"))
    _, friend = customers(db, "甲", "乙")
    paid = deal(db, friend, 1000)
    before = ledger(db)
    for _ in range(3):
        result = Session(db).write(lambda uow: settle_record(uow, "ref", "deals", paid))
        assert result == {"entered": [], "reversed": []}
    assert ledger(db) == before and len(before) == 2


# The installed app's version (1), the record (1), the walk up the chain shared by both rules
# (1: one recursive CTE), then for both rules at once: the entries looked up, the counters made
# and locked (2), looked up again under the locks, the entries inserted, the counters moved (6).
EXPECTED = 9


def test_the_statements_of_a_settlement_do_not_grow_with_the_ledger(db):
    app = install(db, rule("share", caps={"per_referral": 5000}), rule("friend", beneficiary="friend", amount="100"))
    referrer = customers(db, "推荐人")[0]

    def settle_one():
        friend = Session(db).write(lambda uow: uow.records("ref").create("customers", {"name": "友",
                                                                                       "referrer": referrer})["id"])
        paid = deal(db, friend, 1000, paid=False)
        pay_silently(db, app, [paid])
        with StatementCounter(db) as counted:
            Session(db).write(lambda uow: settle_record(uow, "ref", "deals", paid))
        return len(counted.statements)
    first = settle_one()
    for _ in range(3):
        settle_one()
    assert settle_one() == first == EXPECTED, first
    again = Session(db).write(lambda uow: settle_record(uow, "ref", "deals", ledger(db)[-1]["source_id"]))
    assert again == {"entered": [], "reversed": []}

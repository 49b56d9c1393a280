"""Set-based settlement (runtime/rewards/settle.py settle_records): a batch of source records
costs the same statements whatever its size, gives the entries settling them one by one
gives, and two workers settling the same batches with retries enter each reward once; the
referral chains of many friends are one recursive query."""
from __future__ import annotations

import threading
from decimal import Decimal

import sqlalchemy as sa

from engine.compiled import compiled
from engine.rewards import recompute
from runtime.rewards import referral_chains, settle_form, settle_records
from runtime.session import Session
from tests.conftest import StatementCounter
from tests.runtime.rewards.support import customers, deal, install, ledger, pay_silently, rule

SHARE = rule("share", once_per="friend", amount="ROUND(amount * rate, 2)",
             tiers={"steps": [{"from": 1, "rate": 0.05}, {"from": 3, "rate": 0.08}]},
             milestones=[{"at": 2, "bonus": 50}], caps={"per_month": 2500, "budget": 4000})
GRAND = rule("grand", beneficiary="indirect", allow_indirect=True, amount="ROUND(amount * 0.01, 2)")


def unpaid_deals(db, app, friends: int, amount=10000) -> tuple[int, list[int]]:
    """A top customer, a referrer they referred, `friends` friends of the referrer, each with
    an unpaid deal marked paid behind the record service (so only the test settles)."""
    top, referrer = customers(db, "顶", "推荐人")
    ids = Session(db).write(lambda uow: [uow.records("ref").create("customers", {
        "name": f"友{i}", "referrer": referrer})["id"] for i in range(friends)])
    deals = [deal(db, friend, amount + i, paid=False) for i, friend in enumerate(ids)]
    pay_silently(db, app, deals)
    return referrer, deals


def counted_settle(db, deals) -> int:
    with StatementCounter(db) as counted:
        Session(db).write(lambda uow: settle_records(uow, "ref", "deals", deals))
    return counted.count


def test_a_batch_costs_the_same_statements_whatever_its_size(db):
    app = install(db, SHARE, GRAND)
    _, small = unpaid_deals(db, app, 3)
    _, large = unpaid_deals(db, app, 30)
    # the app version, the records, the chains (one CTE), the entries looked up, the
    # counters made and locked, looked up again, the entries inserted, the counters moved
    assert counted_settle(db, small) == counted_settle(db, large) == 9
    assert len(ledger(db)) == 2 * (3 + 30)
    # settled again: the records, the chains and the look-up find every entry: no lock taken
    assert counted_settle(db, large) == 4
    assert len(ledger(db)) == 66


def test_a_batch_gives_the_entries_settling_one_by_one_gives(db):
    app = install(db, SHARE, GRAND)
    _, deals = unpaid_deals(db, app, 9)
    Session(db).write(lambda uow: settle_records(uow, "ref", "deals", deals))
    batched = [(e["rule_key"], e["beneficiary_id"], e["once_key"], e["amount"], e["explanation"]["nth"])
               for e in ledger(db)]
    Session(db).write(lambda uow: uow.conn.execute(sa.delete(sa.table("fw_reward_entries"))))
    Session(db).write(lambda uow: uow.conn.execute(sa.delete(sa.table("fw_reward_counters"))))
    for d in deals:
        Session(db).write(lambda uow, d=d: settle_records(uow, "ref", "deals", [d]))
    single = [(e["rule_key"], e["beneficiary_id"], e["once_key"], e["amount"], e["explanation"]["nth"])
              for e in ledger(db)]
    assert sorted(batched) == sorted(single)
    shares = [e for e in ledger(db) if e["rule_key"] == "share"]
    assert sum(e["amount"] for e in shares) == Decimal(2500)              # the month cap
    assert sorted(e["explanation"]["nth"] for e in shares) == list(range(1, 10))
    for entry in ledger(db):
        assert recompute(entry["explanation"]) == entry["amount"]


def test_refunds_in_a_batch_are_reversed_by_a_fixed_number_of_statements(db):
    app = install(db, rule("share"), rule("held", hold_days=30, amount="100"))
    _, deals = unpaid_deals(db, app, 6)
    Session(db).write(lambda uow: settle_records(uow, "ref", "deals", deals))
    capp = compiled(app)
    table = capp.tables.form_table("deals")
    refunded = table.c[capp.types.of(capp.require_form("deals").field("refunded")).columns()[0].name]
    with db.begin() as conn:
        conn.execute(sa.update(table).where(table.c.id.in_(deals)).values({refunded: True}))
    with StatementCounter(db) as counted:
        done = Session(db).write(lambda uow: settle_records(uow, "ref", "deals", deals))
    # app, records, the entries found, their counters made and locked (2), cancelled,
    # clawed back, the clawbacks entered, the counters moved
    assert counted.count == 9
    rows = ledger(db)
    assert sorted(e["status"] for e in rows if e["rule_key"] == "held") == ["cancelled"] * 6
    clawbacks = [e for e in rows if e["kind"] == "clawback"]
    assert len(clawbacks) == 6 and len(done["reversed"]) == 12
    originals = {e["id"]: e for e in rows}
    assert all(originals[c["original_id"]]["amount"] == -c["amount"] for c in clawbacks)


def test_the_chains_of_many_friends_are_one_statement_and_a_loop_ends_a_chain(db):
    app = install(db, rule("share"))
    a, b, c, d = customers(db, "甲", "乙", "丙", "丁")
    capp = compiled(app)
    with StatementCounter(db) as counted, db.connect() as conn:
        chains = referral_chains(conn, capp, "customers", "referrer", [d, c, a])
    assert counted.count == 1
    assert chains == {d: [d, c, b, a], c: [c, b, a], a: [a]}
    Session(db).write(lambda uow: uow.records("ref").update("customers", a, {"referrer": d}))   # a loop
    with db.connect() as conn:
        assert referral_chains(conn, capp, "customers", "referrer", [b]) == {b: [b, a, d, c]}


def test_settle_form_pages_through_the_programmes_source_records(db):
    app = install(db, rule("share"))
    _, deals = unpaid_deals(db, app, 5)
    first = Session(db).write(lambda uow: settle_form(uow, "ref", limit=3))
    assert first["last"] == sorted(deals)[2] and len(first["entered"]) == 3
    rest = Session(db).write(lambda uow: settle_form(uow, "ref", after=first["last"], limit=3))
    assert rest["last"] == sorted(deals)[-1] and len(rest["entered"]) == 2
    assert Session(db).write(lambda uow: settle_form(uow, "ref", after=rest["last"]))["last"] is None


def test_two_workers_settling_the_same_batches_with_retries_enter_each_reward_once(db):
    app = install(db, SHARE, rule("friend", beneficiary="friend", amount="100", once_per="friend"))
    _, deals = unpaid_deals(db, app, 16)
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def worker(order):
        try:
            start.wait()
            for _ in range(2):                  # every batch settled, then retried
                for i in range(0, len(order), 5):
                    Session(db).write(lambda uow, part=order[i:i + 5]: settle_records(uow, "ref", "deals", part))
        except BaseException as exc:            # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(order,)) for order in (deals, list(reversed(deals)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    rows = ledger(db)
    keys = [(e["rule_key"], e["beneficiary_id"], e["once_key"]) for e in rows]
    assert len(keys) == len(set(keys)) == 2 * 16
    shares = [e for e in rows if e["rule_key"] == "share"]
    assert sorted(e["explanation"]["nth"] for e in shares) == list(range(1, 17))
    assert sum(e["amount"] for e in shares) == Decimal(2500)           # the month cap, never more
    for entry in rows:
        assert recompute(entry["explanation"]) == entry["amount"]

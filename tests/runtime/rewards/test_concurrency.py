"""Two workers settling the same paid deals at once, each retrying every one, enter exactly
one entry per rule, beneficiary and friend; caps hold and each nth is given once."""
from __future__ import annotations

import threading
from decimal import Decimal

from runtime.rewards import settle_record
from runtime.session import Session
from tests.runtime.rewards.support import deal, install, ledger, pay_silently, rule

FRIENDS = 12


def test_two_workers_with_retries_enter_each_reward_once(db):
    app = install(db, rule("share", once_per="friend", amount="ROUND(amount * rate, 2)",
                           tiers={"steps": [{"from": 1, "rate": 0.05}, {"from": 5, "rate": 0.08}]},
                           caps={"budget": 5000}),
                  rule("friend", beneficiary="friend", amount="100", once_per="friend"))
    referrer = Session(db).write(lambda uow: uow.records("ref").create("customers", {"name": "推荐人"})["id"])
    friends = Session(db).write(lambda uow: [uow.records("ref").create("customers", {
        "name": f"友{i}", "referrer": referrer})["id"] for i in range(FRIENDS)])
    deals = [deal(db, friend, 10000, paid=False) for friend in friends]
    assert ledger(db) == []
    pay_silently(db, app, deals)            # only the two workers settle them
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def worker(order):
        try:
            start.wait()
            for _ in range(2):                  # every event settled, then retried
                for deal_id in order:
                    Session(db).write(lambda uow, d=deal_id: settle_record(uow, "ref", "deals", d))
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
    assert len(keys) == len(set(keys)) == 2 * FRIENDS
    shares = [e for e in rows if e["rule_key"] == "share"]
    assert sorted(e["explanation"]["nth"] for e in shares) == list(range(1, FRIENDS + 1))
    assert sum(e["amount"] for e in shares) == Decimal(5000)        # the budget, never more
    assert all(e["amount"] == 100 for e in rows if e["rule_key"] == "friend")

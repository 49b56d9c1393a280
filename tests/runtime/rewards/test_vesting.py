"""Vesting by batches (runtime/rewards/settle.py vest_due, the rewards.vest_due job and the
rewards.vesting due source) and the listener's read set: a change of a field no rule
reads queues no settlement."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from engine.compiled import compiled
from engine.storage import system
from engine.storage.db import read_connection
from runtime.jobs import scheduler
from runtime.rewards import rewards_for
from runtime.rewards.settle import vest_due
from runtime.session import Session
from tests.conftest import StatementCounter
from tests.runtime.rewards.support import customers, deal, install, ledger, rule, update


def jobs_of(engine, kind: str) -> list[dict]:
    table = system.jobs
    with read_connection(engine) as conn:
        return [dict(r) for r in conn.execute(sa.select(table).where(table.c.kind == kind)
                                              .order_by(table.c.id)).mappings()]


def held_rewards(db, count: int, on: date) -> None:
    install(db, rule("held", hold_days=10, once_per="source"))
    referrer, friend = customers(db, "甲", "乙")
    for _ in range(count):
        deal(db, friend, 1000, on=on)
    assert [e["status"] for e in ledger(db)] == ["pending"] * count


def test_vesting_is_one_statement_per_batch_and_leaves_refunded_and_future_rewards(db):
    held_rewards(db, 7, date(2026, 3, 2))
    rows = ledger(db)
    update(db, rows[0]["source_id"], refunded=True)               # cancelled within the hold
    with db.begin() as conn:                                       # one not due yet
        conn.execute(system.reward_entries.update().where(system.reward_entries.c.id == rows[1]["id"])
                     .values(vests_on="2026-04-01"))
    with StatementCounter(db) as counted, db.begin() as conn:
        assert vest_due(conn, date(2026, 3, 12), batch=2) == 5
    updates = [s for s in counted.statements if s.lstrip().upper().startswith("UPDATE")]
    assert len(updates) == 3                                       # 2 + 2 + 1: three UPDATEs
    assert counted.count == 4                                      # and the app (has it a ledger form?)
    assert [e["status"] for e in ledger(db)] == ["cancelled", "pending"] + ["vested"] * 5


def test_the_due_source_enqueues_one_job_a_day_and_reads_no_ids(db):
    held_rewards(db, 3, date.today() - timedelta(days=12))
    tz = Session(db).tz
    now = datetime.combine(date.today(), time(9), tz)
    with StatementCounter(db) as counted:
        first = scheduler.tick(db, now=now)
    assert first.sources["rewards.vesting"] == 1
    reads = [s for s in counted.statements if "fw_reward_entries" in s and s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 1 and "max(" in reads[0].lower()           # one aggregate, never the due ids
    assert [e["status"] for e in ledger(db)] == ["vested"] * 3       # the job ran inline after the tick
    again = scheduler.tick(db, now=now + timedelta(minutes=1))
    assert again.sources["rewards.vesting"] == 0                     # nothing due: no job
    [job] = jobs_of(db, "rewards.vest_due")
    assert job["payload"]["today"] == date.today().isoformat()


def test_a_change_of_a_field_no_rule_reads_queues_no_settlement(db):
    app = install(db, rule("share"))
    assert rewards_for(compiled(app)).reads["deals"] == \
        {"paid", "refunded", "amount", "customer", "paid_on"}
    _, friend = customers(db, "甲", "乙")
    paid = deal(db, friend, 1000)
    before = len(jobs_of(db, "rewards.settle"))
    update(db, paid, campaign="春季")                               # not read by the rule
    assert len(jobs_of(db, "rewards.settle")) == before
    update(db, paid, amount=2000)                                  # read: settled again (nothing new)
    assert len(jobs_of(db, "rewards.settle")) == before + 1
    assert len(ledger(db)) == 1

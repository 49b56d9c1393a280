"""`formwork scheduler` (runtime/jobs/scheduler.py), on SQLite and PostgreSQL: cron
schedules fire each occurrence once, due jobs are handed over once and due sources'
items make one job each, with two schedulers ticking at the same moment; the nightly
recompute is a built-in schedule."""
from __future__ import annotations

import threading
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from engine.storage import system
from engine.storage.db import read_connection
from runtime import jobs
from runtime.jobs import outbox
from runtime.jobs.schedules import all_schedules
from runtime.jobs.scheduler import drain, tick
from runtime.session import Session
from tests.support.jobs import EFFECT, effect_tags
from tests.support.records_app import install_shop

items_metadata = sa.MetaData()
due_items = sa.Table(
    "test_due_items", items_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
)


def _two_schedulers(engine, now):
    """Two scheduler ticks at the same moment, in two threads; their reports."""
    start, reports, errors = threading.Barrier(2), [], []

    def scheduler():
        try:
            start.wait()
            reports.append(tick(engine, now=now))
        except Exception as exc:        # pragma: no cover - reported below
            errors.append(exc)
    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    assert all(not report.errors for report in reports), [report.errors for report in reports]
    return reports


def _schedule(engine, name):
    with read_connection(engine) as conn:
        return next(s for s in all_schedules(conn) if s.name == name)


def test_two_schedulers_fire_each_cron_occurrence_once(jobs_db, clock):
    with jobs_db.begin() as conn:
        jobs.define_schedule(conn, "every_five", "*/5 * * * *", EFFECT, {"tag": "cron"}, tz="UTC", now=clock.now)
    assert _schedule(jobs_db, "every_five").next_run_at == clock.now + timedelta(minutes=5)
    assert sum(r.schedules for r in _two_schedulers(jobs_db, clock.now)) == 0      # not due yet
    for round_ in range(1, 4):
        now = clock.advance(300)
        assert sum(r.schedules for r in _two_schedulers(jobs_db, now)) == 1
        assert effect_tags(jobs_db) == ["cron"] * round_
        schedule = _schedule(jobs_db, "every_five")
        assert (schedule.last_run_at, schedule.next_run_at) == (now, now + timedelta(minutes=5))
    with read_connection(jobs_db) as conn:
        keys = sorted(job.key for job in outbox.listing(conn))
    assert keys == [f"schedule:every_five:{(clock.now - timedelta(minutes=m)).isoformat()}" for m in (10, 5, 0)]


def test_missed_occurrences_fire_once_then_the_schedule_moves_past_now(jobs_db, clock):
    with jobs_db.begin() as conn:
        jobs.define_schedule(conn, "hourly", "0 * * * *", EFFECT, {"tag": "hourly"}, tz="UTC", now=clock.now)
    now = clock.advance(5 * 3600 + 60)      # five hours without a scheduler
    assert tick(jobs_db, now=now).schedules == 1
    assert tick(jobs_db, now=now).schedules == 0
    assert _schedule(jobs_db, "hourly").next_run_at == now.replace(minute=0, second=0) + timedelta(hours=1)
    assert effect_tags(jobs_db) == ["hourly"]


def test_two_schedulers_hand_each_due_job_over_once(jobs_db, clock):
    with Session(jobs_db).write() as uow:
        for n in range(30):
            uow.enqueue(EFFECT, {"tag": f"t{n:02d}"}, run_at=clock.now + timedelta(seconds=60 + n))
    assert effect_tags(jobs_db) == []
    now = clock.advance(120)
    reports = _two_schedulers(jobs_db, now)
    assert sum(r.jobs for r in reports) == 30
    assert effect_tags(jobs_db) == [f"t{n:02d}" for n in range(30)]
    with read_connection(jobs_db) as conn:
        assert {(job.status, job.attempts) for job in outbox.listing(conn)} == {("done", 1)}


def _claim_due_items(uow, now):
    """A due source as docs/jobs.md describes one: claim, then enqueue with a key."""
    claimed = uow.conn.execute(due_items.update().where(due_items.c.due_at <= now, due_items.c.claimed_at.is_(None))
                               .values(claimed_at=now).returning(due_items.c.id, due_items.c.due_at)).all()
    for item_id, due_at in claimed:
        uow.enqueue(EFFECT, {"tag": f"item{item_id}"}, key=f"test.item:{item_id}:{due_at.isoformat()}")
    return len(claimed)


@pytest.fixture
def due_source(jobs_db, clock):
    items_metadata.create_all(jobs_db)
    with jobs_db.begin() as conn:
        conn.execute(due_items.insert(), [{"id": n, "due_at": clock.now + timedelta(minutes=n)} for n in range(1, 6)])
    jobs.register_due_source("test.items", _claim_due_items)
    yield
    jobs.unregister_due_source("test.items")


def test_two_schedulers_take_each_item_of_a_due_source_once(jobs_db, clock, due_source):
    now = clock.advance(3 * 60)
    reports = _two_schedulers(jobs_db, now)
    assert sum(r.sources["test.items"] for r in reports) == 3
    assert effect_tags(jobs_db) == ["item1", "item2", "item3"]
    now = clock.advance(10 * 60)
    assert sum(r.sources["test.items"] for r in _two_schedulers(jobs_db, now)) == 2
    assert effect_tags(jobs_db) == [f"item{n}" for n in range(1, 6)]


def test_a_failing_due_source_is_reported_and_the_others_still_run(jobs_db, clock, due_source):
    def broken(uow, now):
        raise RuntimeError("source is broken")
    jobs.register_due_source("test.broken", broken)
    try:
        report = tick(jobs_db, now=clock.advance(60))
    finally:
        jobs.unregister_due_source("test.broken")
    assert report.sources["test.items"] == 1 and "test.broken" not in report.sources   # the app's own sources ran too
    assert report.errors == ["due source test.broken: RuntimeError: source is broken"]


def test_the_nightly_volatile_recompute_is_a_built_in_schedule_that_runs(jobs_db, clock):
    install_shop(jobs_db)
    tick(jobs_db, now=clock.now)
    schedule = _schedule(jobs_db, "nightly_recompute_volatile")
    assert (schedule.cron, schedule.kind, schedule.enabled) == ("0 2 * * *", "recompute_volatile", True)
    local = schedule.next_run_at.astimezone(ZoneInfo(schedule.timezone))
    assert (local.hour, local.minute) == (2, 0)
    tick(jobs_db, now=schedule.next_run_at)
    with read_connection(jobs_db) as conn:
        [job] = outbox.listing(conn, kind="recompute_volatile")
    assert (job.status, job.attempts, job.last_error) == ("done", 1, None)


def test_a_job_whose_runner_died_on_every_attempt_ends_failed(jobs_db, clock):
    job_id = Session(jobs_db).write(lambda uow: uow.enqueue(EFFECT, {"tag": "x"}, run_at=clock.now + timedelta(1)))
    with jobs_db.begin() as conn:           # as a runner that claimed it for the last time and died
        conn.execute(system.jobs.update().where(system.jobs.c.id == job_id).values(
            status="running", attempts=5, lease_owner="gone", lease_until=clock.now))
    drain(jobs_db, now=clock.advance(1))
    with read_connection(jobs_db) as conn:
        job = outbox.get(conn, job_id)
    assert job.status == "failed" and "lease expired" in job.last_error


def test_a_bad_cron_expression_is_refused_in_both_languages(jobs_db):
    with jobs_db.begin() as conn, pytest.raises(jobs.BadCron) as refused:
        jobs.define_schedule(conn, "broken", "every day", EFFECT)
    assert "'every day' is not a cron expression" in refused.value.message("en")
    assert "“every day”无效" in refused.value.message("zh")

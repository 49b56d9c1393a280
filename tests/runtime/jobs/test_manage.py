"""runtime/jobs/manage.py on SQLite and PostgreSQL: keyset pages of the outbox filtered by
status and kind, a job's detail, retrying a failed or dead job once however often (and by
however many) it is pressed, discarding, refusals for non-admins and jobs that are not
failed or dead; and the embedded scheduler loop ticking until its stop event."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from engine.storage import system
from engine.storage.db import read_connection
from runtime.actor import Actor
from runtime.jobs import outbox
from runtime.jobs.manage import (BadJobStatus, JobNotFound, JobNotRetryable, discard_job, job_detail, job_kinds,
                                 job_page, retry_job)
from runtime.jobs import scheduler
from runtime.jobs.scheduler import drain, run_scheduler, start_embedded_scheduler
from runtime.permissions import PermissionDenied
from runtime.session import Session
from tests.conftest import StatementCounter
from tests.support.jobs import EFFECT, FLAKY, effect_tags

USER = Actor(user_id=7, account="li.lei", name="李雷")


def _enqueue(engine, kind, payload, **options):
    with Session(engine).write() as uow:
        return uow.enqueue(kind, payload, **options)


def _failed(engine, tag="f") -> int:
    """A flaky job that failed on all of its 3 attempts (retries drained at once)."""
    job_id = _enqueue(engine, FLAKY, {"tag": tag})
    for _ in range(3):
        with engine.begin() as conn:
            conn.execute(system.jobs.update().where(system.jobs.c.id == job_id)
                         .values(run_at=outbox.utcnow(), dispatched_at=None))
        drain(engine)
    with read_connection(engine) as conn:
        assert outbox.get(conn, job_id).status == outbox.FAILED
    return job_id


def test_pages_are_newest_first_by_keyset_and_filtered(jobs_db):
    ids = [_enqueue(jobs_db, EFFECT, {"tag": f"e{n}"}) for n in range(7)]
    session = Session(jobs_db)
    with session.read() as uow:
        first = job_page(uow, limit=3)
        second = job_page(uow, limit=3, before=first.next_before)
        third = job_page(uow, limit=3, before=second.next_before)
    assert [j.id for j in first.jobs] == ids[::-1][:3]
    assert [j.id for j in second.jobs] == ids[::-1][3:6]
    assert [j.id for j in third.jobs] == ids[:1] and third.next_before is None
    with session.read() as uow:
        assert [j.id for j in job_page(uow, status="done").jobs] == ids[::-1]
        assert job_page(uow, status="failed").jobs == []
        assert job_page(uow, kind="nothing.like.it").jobs == []
        assert len(job_page(uow, kind=EFFECT).jobs) == 7
        with pytest.raises(BadJobStatus, match="the statuses are queued, running, done, failed, dead"):
            job_page(uow, status="broken")
    assert EFFECT in job_kinds()


def test_a_page_reads_the_same_statements_however_deep(jobs_db):
    ids = [_enqueue(jobs_db, EFFECT, {"tag": f"e{n}"}) for n in range(12)]
    counts = []
    for before in (None, ids[6], ids[2]):
        with StatementCounter(jobs_db) as counter, Session(jobs_db).read() as uow:
            job_page(uow, limit=2, before=before)
        counts.append(len(counter.statements))
        if before is not None:      # a range on the key, not an offset of the rows skipped
            assert any("fw_jobs.id <" in s for s in counter.statements)
    assert len(set(counts)) == 1


def test_retry_queues_a_failed_job_once_and_it_runs_once(jobs_db):
    job_id = _failed(jobs_db)
    with jobs_db.begin() as conn:       # the next attempt succeeds
        conn.execute(system.jobs.update().where(system.jobs.c.id == job_id)
                     .values(payload={"tag": "f", "fail_until": 0}))
    with Session(jobs_db).read() as uow:
        detail = job_detail(uow, job_id)
    assert detail["retryable"] and "flaky failure on attempt 3" in detail["job"].last_error
    with Session(jobs_db).write() as uow:
        queued = retry_job(uow, job_id)
        assert queued.status == outbox.QUEUED and queued.attempts == 0
    with read_connection(jobs_db) as conn:
        job = outbox.get(conn, job_id)
    assert job.status == outbox.DONE and job.attempts == 1      # ran inline after the commit
    assert effect_tags(jobs_db) == ["f"]
    with pytest.raises(JobNotRetryable, match=f"Job #{job_id} is done now"):
        with Session(jobs_db).write() as uow:
            retry_job(uow, job_id)
    assert effect_tags(jobs_db) == ["f"]


def test_two_admins_retrying_at_once_queue_the_job_once(jobs_db):
    job_id = _failed(jobs_db)
    start, results = threading.Barrier(2), []

    def press():
        start.wait()
        try:
            with Session(jobs_db).write() as uow:
                retry_job(uow, job_id)
            results.append("queued")
        except JobNotRetryable:
            results.append("refused")
    threads = [threading.Thread(target=press) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(results) == ["queued", "refused"]
    with read_connection(jobs_db) as conn:
        job = outbox.get(conn, job_id)
    # run once after the one retry that took (it failed again and waits for its backoff)
    assert (job.attempts, job.status) == (1, outbox.QUEUED)


def test_a_dead_job_is_retried_and_discarded_a_running_one_is_not(jobs_db):
    with jobs_db.begin() as conn:
        dead = outbox.insert(conn, "test.gone", {"x": 1}, key="dead:1", run_at=None, actor_id=None,
                             max_attempts=3, now=outbox.utcnow(), dispatched=False)
        running = outbox.insert(conn, EFFECT, {"tag": "r"}, key="running:1", run_at=None, actor_id=None,
                                max_attempts=3, now=outbox.utcnow(), dispatched=False)
        outbox.claim(conn, running, "elsewhere", now=outbox.utcnow(), lease=300)
    drain(jobs_db)          # the unknown kind is buried: dead
    with read_connection(jobs_db) as conn:
        assert outbox.get(conn, dead).status == outbox.DEAD
    for action in (retry_job, discard_job):
        with pytest.raises(JobNotRetryable, match="is running now"):
            with Session(jobs_db).write() as uow:
                action(uow, running)
    with Session(jobs_db).write() as uow:
        discard_job(uow, dead)
    with read_connection(jobs_db) as conn:
        assert outbox.get(conn, dead) is None and outbox.get(conn, running).status == outbox.RUNNING
    for action in (retry_job, discard_job, job_detail):
        with pytest.raises(JobNotFound, match=f"There is no job #{dead}"):
            with Session(jobs_db).write() as uow:
                action(uow, dead)


def test_only_administrators_manage_jobs(jobs_db):
    job_id = _enqueue(jobs_db, EFFECT, {"tag": "x"})
    session = Session(jobs_db, USER)
    for call in (lambda uow: job_page(uow), lambda uow: job_detail(uow, job_id),
                 lambda uow: retry_job(uow, job_id), lambda uow: discard_job(uow, job_id)):
        with pytest.raises(PermissionDenied, match="Only workspace administrators"):
            with session.write() as uow:
                call(uow)


def test_the_scheduler_loop_ticks_until_its_stop_event(jobs_db, clock):
    later = _enqueue(jobs_db, EFFECT, {"tag": "later"}, run_at=clock.now + timedelta(seconds=60))
    assert effect_tags(jobs_db) == []
    clock.advance(61)           # now due; only a scheduler runs it
    stop, reports = threading.Event(), []

    def on_tick(report):
        reports.append(report)
        stop.set()
    run_scheduler(jobs_db, interval=0.01, stop=stop, on_tick=on_tick)
    assert len(reports) == 1 and reports[0].jobs == 1
    assert effect_tags(jobs_db) == ["later"]
    with read_connection(jobs_db) as conn:
        assert outbox.get(conn, later).status == outbox.DONE


def test_the_embedded_scheduler_survives_a_failing_tick(jobs_db, monkeypatch):
    calls, stop = [], threading.Event()

    def failing_then_stopping(engine, **_):
        calls.append(engine)
        if len(calls) == 1:
            raise sa.exc.OperationalError("SELECT 1", {}, Exception("database unreachable"))
        stop.set()
        return scheduler.TickReport()
    monkeypatch.setattr(scheduler, "tick", failing_then_stopping)
    thread, event = start_embedded_scheduler(jobs_db, interval=0.01, stop=stop)
    thread.join(30)
    assert not thread.is_alive() and thread.daemon and event is stop and len(calls) == 2
    with pytest.raises(sa.exc.OperationalError):        # the command's own loop stops on it
        calls.clear()
        run_scheduler(jobs_db, interval=0.01, stop=threading.Event())

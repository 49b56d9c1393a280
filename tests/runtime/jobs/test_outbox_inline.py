"""The outbox with the inline runner (no REDIS_URL), on SQLite and PostgreSQL: a job is
written in the unit of work's transaction, runs only after its commit, once per key; its
errors are recorded on the row, never raised into the write; retries back off, end
failed, and `jobs retry` runs them again."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from engine.storage import system
from engine.storage.db import read_connection
from runtime import jobs
from runtime.jobs import outbox
from runtime.jobs.scheduler import drain
from runtime.session import Session
from tests.support.jobs import EFFECT, FLAKY, OUTSIDE, effect_tags, effects


def _job(engine, job_id):
    with read_connection(engine) as conn:
        return outbox.get(conn, job_id)


def _jobs(engine):
    with read_connection(engine) as conn:
        return outbox.listing(conn, limit=1000)


def test_a_rolled_back_unit_of_work_leaves_no_job_and_runs_nothing(jobs_db):
    with pytest.raises(RuntimeError, match="changed my mind"):
        with Session(jobs_db).write() as uow:
            uow.enqueue(EFFECT, {"tag": "never"})
            raise RuntimeError("changed my mind")
    assert _jobs(jobs_db) == [] and effect_tags(jobs_db) == []


def test_a_committed_job_runs_after_the_commit_and_sees_the_data(jobs_db):
    ran_inside = []

    def change(uow):
        uow.org.users.add("li.lei", "李雷")
        job_id = uow.enqueue(EFFECT, {"tag": "after", "check_table": "fw_users"})
        ran_inside.append(effect_tags(jobs_db))     # another connection: nothing yet
        return job_id
    job_id = Session(jobs_db).write(change)
    assert ran_inside == [[]]
    job = _job(jobs_db, job_id)
    assert (job.status, job.attempts, job.last_error) == ("done", 1, None)
    assert effect_tags(jobs_db) == ["after"]


def test_a_duplicate_key_is_a_no_op(jobs_db):
    with Session(jobs_db).write() as uow:
        first = uow.enqueue(EFFECT, {"tag": "one"}, key="welcome:7")
        again = uow.enqueue(EFFECT, {"tag": "two"}, key="welcome:7")
    later = Session(jobs_db).write(lambda uow: uow.enqueue(EFFECT, {"tag": "three"}, key="welcome:7"))
    assert isinstance(first, int) and again is None and later is None
    assert effect_tags(jobs_db) == ["one"] and len(_jobs(jobs_db)) == 1


def test_enqueue_is_one_insert_per_job(jobs_db, count_statements):
    with Session(jobs_db).write() as uow:
        with count_statements(jobs_db) as counter:
            for n in range(3):
                uow.enqueue(EFFECT, {"tag": f"t{n}"}, key=f"k{n}", run_at=outbox.utcnow() + timedelta(hours=1))
    assert counter.count == 3
    assert all(s.lstrip().upper().startswith("INSERT INTO FW_JOBS") for s in counter.statements)


def test_an_unknown_kind_is_refused_with_a_suggestion(jobs_db):
    with pytest.raises(jobs.UnknownJobKind) as refused:
        with Session(jobs_db).write() as uow:
            uow.enqueue("test.efect", {})
    assert "test.effect" in refused.value.message("en") and "test.efect" in refused.value.message("zh")


def test_a_failing_job_is_recorded_not_raised_then_backs_off_to_failed_and_is_retried(jobs_db, clock, capsys):
    with Session(jobs_db).write() as uow:
        uow.org.users.add("li.lei", "李雷")
        job_id = uow.enqueue(FLAKY, {"tag": "flaky", "fail_until": 3})
    with Session(jobs_db).read() as uow:            # the write committed despite the job
        assert uow.org.users.get("li.lei").name == "李雷"
    job = _job(jobs_db, job_id)
    assert (job.status, job.attempts) == ("queued", 1)
    assert job.run_at == clock.now + timedelta(seconds=10)
    assert "RuntimeError: flaky failure on attempt 1" in job.last_error

    assert drain(jobs_db) == 0                      # not due yet
    clock.advance(10)
    assert drain(jobs_db) == 1
    job = _job(jobs_db, job_id)
    assert (job.status, job.attempts, job.run_at) == ("queued", 2, clock.now + timedelta(seconds=20))
    clock.advance(20)
    drain(jobs_db)
    job = _job(jobs_db, job_id)
    assert (job.status, job.attempts) == ("failed", 3)
    assert "flaky failure on attempt 3" in job.last_error
    clock.advance(3600)
    assert drain(jobs_db) == 0 and effect_tags(jobs_db) == []

    # `jobs retry` starts the attempts again: attempts 1..3 fail again, as the payload says,
    # so make the payload's limit pass: the job then runs on its first new attempt.
    with jobs_db.begin() as conn:
        conn.execute(system.jobs.update().where(system.jobs.c.id == job_id)
                     .values(payload={"tag": "flaky", "fail_until": 0}))
    with Session(jobs_db).write() as uow:
        retried = outbox.requeue(uow.conn, failed=True, now=clock.now)
        uow.hand_over_after_commit(retried)
    assert retried == [job_id]
    job = _job(jobs_db, job_id)
    assert (job.status, job.attempts) == ("done", 1)
    assert effect_tags(jobs_db) == ["flaky"]


def test_a_delayed_job_waits_for_its_time(jobs_db, clock):
    job_id = Session(jobs_db).write(lambda uow: uow.enqueue(
        EFFECT, {"tag": "later"}, run_at=clock.now + timedelta(minutes=5)))
    assert _job(jobs_db, job_id).status == "queued" and effect_tags(jobs_db) == []
    clock.advance(299)
    assert drain(jobs_db) == 0
    clock.advance(1)
    assert drain(jobs_db) == 1
    assert _job(jobs_db, job_id).status == "done" and effect_tags(jobs_db) == ["later"]


def test_a_handler_error_rolls_back_what_it_wrote(jobs_db):
    def half_done(ctx, payload):
        ctx.uow.conn.execute(effects.insert().values(job_id=ctx.job.id, tag="half", attempt=ctx.attempt))
        raise ValueError("second step failed")
    jobs.register("test.half_done", half_done, max_attempts=1)
    try:
        job_id = Session(jobs_db).write(lambda uow: uow.enqueue("test.half_done", {}))
    finally:
        jobs.unregister("test.half_done")
    job = _job(jobs_db, job_id)
    assert job.status == "failed" and "ValueError: second step failed" in job.last_error
    assert effect_tags(jobs_db) == []


def test_a_job_of_a_kind_registered_nowhere_is_dead_and_retryable(jobs_db):
    jobs.register("test.gone", lambda ctx, payload: None)
    with Session(jobs_db).write() as uow:
        job_id = uow.enqueue("test.gone", {}, run_at=outbox.utcnow() + timedelta(seconds=1))
    jobs.unregister("test.gone")
    drain(jobs_db, now=outbox.utcnow() + timedelta(seconds=2))
    with jobs_db.begin() as conn:       # the claim is made at the real time: make it due
        conn.execute(system.jobs.update().values(run_at=outbox.utcnow() - timedelta(seconds=1), dispatched_at=None))
    drain(jobs_db)
    job = _job(jobs_db, job_id)
    assert job.status == "dead" and "no job kind 'test.gone' is registered" in job.last_error
    with jobs_db.begin() as conn:
        assert outbox.requeue(conn, [job_id], now=outbox.utcnow()) == [job_id]


def test_a_follow_up_job_enqueued_by_a_handler_runs_after_the_handler_commits(jobs_db):
    def first(ctx, payload):
        ctx.uow.conn.execute(effects.insert().values(job_id=ctx.job.id, tag="first", attempt=ctx.attempt))
        ctx.uow.enqueue(EFFECT, {"tag": "second"}, key=f"second-of:{ctx.job.id}")
    jobs.register("test.first", first)
    try:
        Session(jobs_db).write(lambda uow: uow.enqueue("test.first", {}))
    finally:
        jobs.unregister("test.first")
    assert effect_tags(jobs_db) == ["first", "second"]
    assert {j.status for j in _jobs(jobs_db)} == {"done"}


def test_a_job_acts_as_the_system_or_as_the_enqueuing_user(jobs_db):
    seen = []
    jobs.register("test.who", lambda ctx, payload: seen.append((ctx.session.actor.user_id, ctx.uow.actor.account)))
    try:
        li = Session(jobs_db).write(lambda uow: uow.org.users.add("li.lei", "李雷"))
        as_li = Session.for_user(jobs_db, "li.lei")
        as_li.write(lambda uow: uow.enqueue("test.who", {}, as_actor=True))
        as_li.write(lambda uow: uow.enqueue("test.who", {}))
    finally:
        jobs.unregister("test.who")
    assert seen == [(li.id, "li.lei"), (None, None)]


def test_a_kind_outside_the_transaction_runs_and_is_marked_done(jobs_db):
    job_id = Session(jobs_db).write(lambda uow: uow.enqueue(OUTSIDE, {"tag": "outside"}))
    assert _job(jobs_db, job_id).status == "done" and effect_tags(jobs_db) == ["outside"]


def test_a_retried_write_keeps_only_the_jobs_of_the_attempt_that_committed(jobs_db):
    tries = []

    def work(uow):
        tries.append(uow.enqueue(EFFECT, {"tag": f"try{len(tries)}"}))
        if len(tries) == 1:
            class Deadlock(Exception):
                sqlstate = "40P01"
            raise sa.exc.OperationalError("(injected)", {}, Deadlock("deadlock detected"))
    Session(jobs_db).write(work, sleep=lambda s: None)
    assert effect_tags(jobs_db) == ["try1"] and len(_jobs(jobs_db)) == 1


def test_a_read_unit_of_work_cannot_enqueue(jobs_db):
    with pytest.raises(Exception, match="enqueue belongs to a unit of work that writes"):
        with Session(jobs_db).read() as uow:
            uow.enqueue(EFFECT, {"tag": "x"})


def test_jobs_run_together_each_fails_alone(jobs_db, count_statements):
    """The jobs of one commit run in one transaction, each in a savepoint: the one that
    fails rolls back its own writes only and is recorded; the others are done."""
    def half_done(ctx, payload):
        ctx.uow.conn.execute(effects.insert().values(job_id=ctx.job.id, tag="half", attempt=ctx.attempt))
        ctx.uow.enqueue(EFFECT, {"tag": "follow-up of a failed job"})
        raise ValueError("second step failed")
    jobs.register("test.half_done", half_done, max_attempts=2)
    try:
        with Session(jobs_db).write() as uow:
            ids = [uow.enqueue(EFFECT, {"tag": "a"}), uow.enqueue("test.half_done", {}),
                   uow.enqueue(EFFECT, {"tag": "b"})]
    finally:
        jobs.unregister("test.half_done")
    assert effect_tags(jobs_db) == ["a", "b"]
    statuses = {job.id: (job.status, job.attempts) for job in _jobs(jobs_db)}
    assert statuses == {ids[0]: ("done", 1), ids[1]: ("queued", 1), ids[2]: ("done", 1)}
    assert "ValueError: second step failed" in _job(jobs_db, ids[1]).last_error


def test_a_job_of_a_batch_whose_lease_another_runner_took_loses_its_writes_alone(jobs_db):
    """The jobs of a batch are marked done by one UPDATE at the end; one whose lease went
    to another runner meanwhile makes the batch run again one job at a time, where only
    that job's writes roll back: every other effect happens once."""
    def stolen(ctx, payload):
        ctx.uow.conn.execute(effects.insert().values(job_id=ctx.job.id, tag="stolen", attempt=ctx.attempt))
        ctx.uow.conn.execute(system.jobs.update().where(system.jobs.c.id == ctx.job.id)
                             .values(lease_owner="another-runner"))
    jobs.register("test.stolen", stolen)
    try:
        with Session(jobs_db).write() as uow:
            ids = [uow.enqueue(EFFECT, {"tag": "a"}), uow.enqueue("test.stolen", {}),
                   uow.enqueue(EFFECT, {"tag": "b"})]
    finally:
        jobs.unregister("test.stolen")
    assert effect_tags(jobs_db) == ["a", "b"]
    statuses = {job.id: job.status for job in _jobs(jobs_db)}
    assert statuses == {ids[0]: "done", ids[1]: "running", ids[2]: "done"}


def test_a_batch_is_marked_done_by_one_statement(jobs_db, count_statements):
    """Claim, each job's work (in a savepoint), one UPDATE marking them all done: the
    statements of a batch grow by the jobs' own work only (the counter leaves savepoints
    out)."""
    def batch_statements(count: int) -> int:
        with count_statements(jobs_db) as counter:
            with Session(jobs_db).write() as uow:
                for n in range(count):
                    uow.enqueue(EFFECT, {"tag": f"{count}-{n}"})
        return counter.count
    one, five = batch_statements(1), batch_statements(5)
    assert five - one == 4 * 2          # per job: its INSERT into fw_jobs and its effect
    assert len(effect_tags(jobs_db)) == 6

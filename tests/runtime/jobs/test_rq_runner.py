"""Jobs on RQ (REDIS_URL set) with the real Redis at 127.0.0.1:6379, on SQLite and
PostgreSQL: after the commit only the job ids go to Redis, and `formwork worker` runs
them; a job put on RQ twice or picked by two workers runs once; a worker killed mid-job
leaves no effect and the job runs again; with Redis down the write succeeds and a drain
hands the job over later. Each test has an RQ queue of its own, deleted afterwards."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import datetime, timezone

from engine.storage.db import read_connection
from runtime.jobs import dispatch, outbox
from runtime.jobs.scheduler import drain
from runtime.jobs.worker import run_worker
from runtime.session import Session
from tests.support.jobs import (
    CLOSED_PORT_URL, EFFECT, REDIS_URL, effect_tags, subprocess_env, worker_command,
)
from tests.support.paths import REPO_ROOT


def _jobs(engine):
    with read_connection(engine) as conn:
        return sorted(outbox.listing(conn, limit=10_000), key=lambda job: job.id)


def _enqueue(engine, tags):
    with Session(engine).write() as uow:
        return [uow.enqueue(EFFECT, {"tag": tag}) for tag in tags]


def _wait_for(predicate, timeout=300.0, what="the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_committed_jobs_go_to_rq_and_a_worker_runs_them(jobs_db, rq_queue):
    ids = _enqueue(jobs_db, ["a", "b", "c"])
    assert effect_tags(jobs_db) == []                   # not run inline
    assert [job.status for job in _jobs(jobs_db)] == ["queued"] * 3
    assert all(job.dispatched_at is not None for job in _jobs(jobs_db))
    assert run_worker(jobs_db, REDIS_URL, burst=True) is True
    assert effect_tags(jobs_db) == ["a", "b", "c"]
    assert [(job.id, job.status, job.attempts) for job in _jobs(jobs_db)] == [(i, "done", 1) for i in ids]


def test_a_job_put_on_rq_twice_runs_once(jobs_db, rq_queue):
    ids = _enqueue(jobs_db, ["once"])
    assert dispatch.push(REDIS_URL, ids)                 # a second message for the same job
    run_worker(jobs_db, REDIS_URL, burst=True)
    assert effect_tags(jobs_db) == ["once"]
    assert _jobs(jobs_db)[0].attempts == 1


def test_two_worker_processes_run_each_job_once(jobs_db, db_url, rq_queue):
    tags = [f"job{n:02d}" for n in range(40)]
    ids = _enqueue(jobs_db, tags)
    assert dispatch.push(REDIS_URL, ids)                 # every job twice on the queue
    env = subprocess_env(db_url, rq_queue)
    workers = [subprocess.Popen(worker_command("--burst", "--name", f"{rq_queue}-w{n}"), env=env, cwd=REPO_ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE) for n in range(2)]
    for worker in workers:
        out, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err.decode()[-2000:]
    assert effect_tags(jobs_db) == tags
    assert {(job.status, job.attempts) for job in _jobs(jobs_db)} == {("done", 1)}


def test_a_worker_killed_mid_job_leaves_no_effect_and_the_job_runs_again_once(jobs_db, db_url, rq_queue):
    [job_id] = _enqueue_sleeper(jobs_db)
    env = subprocess_env(db_url, rq_queue, FORMWORK_JOB_LEASE="2")
    worker = subprocess.Popen(worker_command("--burst"), env=env, cwd=REPO_ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for(lambda: _jobs(jobs_db)[0].status == "running", what="the worker to claim the job")
        time.sleep(0.5)                                  # into the handler's sleep
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    job = _jobs(jobs_db)[0]
    assert (job.status, job.attempts) == ("running", 1) and effect_tags(jobs_db) == []
    _wait_for(lambda: _jobs(jobs_db)[0].lease_until < datetime.now(timezone.utc), what="the lease to expire")
    assert drain(jobs_db) == 1                           # its lease expired: on RQ again
    run_worker(jobs_db, REDIS_URL, burst=True)
    job = _jobs(jobs_db)[0]
    assert (job.id, job.status, job.attempts) == (job_id, "done", 2)
    assert effect_tags(jobs_db) == ["killed"]            # the effect happened once


def _enqueue_sleeper(engine):
    with Session(engine).write() as uow:
        return [uow.enqueue(EFFECT, {"tag": "killed", "sleep_on": 1, "sleep": 120})]


def test_with_redis_down_the_write_succeeds_and_a_drain_hands_the_job_over_later(jobs_db, rq_queue, monkeypatch):
    monkeypatch.setenv("REDIS_URL", CLOSED_PORT_URL)
    with Session(jobs_db).write() as uow:
        user = uow.org.users.add("li.lei", "李雷")
        uow.enqueue(EFFECT, {"tag": "waited"})
    with Session(jobs_db).read() as uow:
        assert uow.org.users.get("li.lei").id == user.id
    [job] = _jobs(jobs_db)
    assert (job.status, job.dispatched_at) == ("queued", None)
    assert drain(jobs_db) == 0                           # still down (and not retried at once)

    monkeypatch.setenv("REDIS_URL", REDIS_URL)           # Redis is back
    assert drain(jobs_db) == 1
    assert drain(jobs_db) == 0                           # handed over once
    run_worker(jobs_db, REDIS_URL, burst=True)
    assert effect_tags(jobs_db) == ["waited"] and _jobs(jobs_db)[0].status == "done"


def test_a_worker_tops_its_batch_up_with_jobs_waiting_in_the_queue(jobs_db, rq_queue, count_statements):
    """Five commits put five one-job RQ jobs on the queue; the worker's first RQ job claims
    all five in its claim transaction and runs them in one transaction; the four RQ jobs
    after it find their rows taken (a claim that changes nothing each). Each effect once."""
    ids = [_enqueue(jobs_db, [tag])[0] for tag in "abcde"]
    with count_statements(jobs_db) as counter:
        assert run_worker(jobs_db, REDIS_URL, burst=True) is True
    assert effect_tags(jobs_db) == ["a", "b", "c", "d", "e"]
    jobs = _jobs(jobs_db)
    assert [(job.id, job.status, job.attempts) for job in jobs] == [(i, "done", 1) for i in ids]
    assert len({job.started_at for job in jobs}) == 1           # claimed together
    assert sum(s.lstrip().upper().startswith("INSERT INTO TEST_JOB_EFFECTS") for s in counter.statements) == 5
    done_marks = [s for s in counter.statements if s.lstrip().upper().startswith("UPDATE FW_JOBS SET STATUS")
                  and "RETURNING" in s.upper() and "ATTEMPTS" not in s.upper()]
    assert len(done_marks) == 1                                 # one transaction marked all five done

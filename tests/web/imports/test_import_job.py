"""The import of a wizard run is a job of runtime/jobs (kind `import_run`, key
`import_run:<token>`), on SQLite and PostgreSQL: inline after the commit by default, on RQ
with REDIS_URL (the page shows the progress until a worker has run it), and idempotent: a
retry after a failure just before the commit imports the rows once, and a run whose
import committed is done even when its runner dies before recording it."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from engine.storage import system
from runtime.import_export import runs
from runtime.jobs import JobContext, outbox
from runtime.jobs.runner import run_job
from runtime.jobs.worker import run_worker
from runtime.session import Session
from tests.support import jobs as job_support
from tests.support.import_files import customers_csv
from tests.support.import_files import customers, post, upload

MAPPING = {"map_0": "name", "map_1": "phone", "map_2": "level", "map_3": "owner"}


def checked_run(client, tmp_path) -> str:
    run = upload(client, customers_csv(tmp_path)).headers["Location"]
    assert post(client, f"{run}/check", MAPPING).status_code == 302
    return run


def import_jobs(db) -> list[tuple]:
    with db.connect() as conn:
        return conn.execute(sa.select(system.jobs.c.id, system.jobs.c.key, system.jobs.c.status,
                                      system.jobs.c.attempts, system.jobs.c.actor_id)
                            .where(system.jobs.c.kind == runs.IMPORT_RUN).order_by(system.jobs.c.id)).all()


def admin_id(db) -> int:
    with db.connect() as conn:
        return conn.execute(sa.select(system.users.c.id).where(system.users.c.account == "admin")).scalar_one()


def test_the_import_is_a_job_run_inline_after_the_commit(admin, db, tmp_path):
    run = checked_run(admin, tmp_path)
    assert post(admin, f"{run}/run", {"skip_bad_rows": "1"}).status_code == 302
    token = run.rstrip("/").rsplit("/", 1)[1]
    [(_, key, status, attempts, actor_id)] = import_jobs(db)
    assert (key, status, attempts, actor_id) == (f"import_run:{token}", "done", 1, admin_id(db))
    state = admin.get(f"{run}/status").get_json()
    assert state["stage"] == "done" and state["result"]["rows_imported"] == 2
    assert len(customers(db)) == 2
    assert 'id="result"' in admin.get(run).get_data(as_text=True)
    assert post(admin, f"{run}/run", {"skip_bad_rows": "1"}).status_code == 409      # once per run
    assert len(import_jobs(db)) == 1 and len(customers(db)) == 2


def test_a_retry_after_a_failure_before_the_commit_imports_the_rows_once(admin, db, tmp_path, monkeypatch):
    run = checked_run(admin, tmp_path)
    real_finish = JobContext.finish_in
    calls = []

    def crash_on_the_first_attempt(self, conn):
        calls.append(self.attempt)
        if self.attempt == 1:        # every row is written, the transaction not committed yet
            raise ConnectionResetError("the database connection was lost")
        return real_finish(self, conn)
    monkeypatch.setattr(JobContext, "finish_in", crash_on_the_first_attempt)
    post(admin, f"{run}/run", {"skip_bad_rows": "1"})
    [(job_id, _, status, attempts, _)] = import_jobs(db)
    assert (status, attempts) == ("queued", 1)                      # to be tried again, with backoff
    state = admin.get(f"{run}/status").get_json()
    assert state["stage"] == "failed" and "ConnectionResetError" in state["error"]
    assert customers(db) == []                                      # the first attempt kept nothing
    assert "导入会自动重试" in admin.get(run).get_data(as_text=True)

    with db.begin() as conn:                                        # its backoff has passed
        conn.execute(system.jobs.update().where(system.jobs.c.id == job_id).values(run_at=outbox.utcnow()))
    assert run_job(db, job_id, Session(db).job_session) == "done"
    assert calls == [1, 2]
    assert admin.get(f"{run}/status").get_json()["stage"] == "done"
    assert sorted(r["fields"]["phone"] for r in customers(db)) == ["13812345678", "13987654321"]
    assert run_job(db, job_id, Session(db).job_session) is None     # done: not run a third time
    assert len(customers(db)) == 2


def test_a_run_whose_import_committed_is_done_even_if_its_runner_dies_after(admin, db, tmp_path, monkeypatch):
    run = checked_run(admin, tmp_path)
    real_save = runs.Run.save

    def die_after_the_commit(self, **changes):
        if changes.get("stage") == "done":
            raise SystemError("the worker was killed")
        real_save(self, **changes)
    monkeypatch.setattr(runs.Run, "save", die_after_the_commit)
    post(admin, f"{run}/run", {"skip_bad_rows": "1"})
    monkeypatch.setattr(runs.Run, "save", real_save)
    [(job_id, _, status, _, _)] = import_jobs(db)
    assert status == "done"                          # committed with the rows, in their transaction
    assert len(customers(db)) == 2
    assert run_job(db, job_id, Session(db).job_session) is None     # never claimed again
    assert len(customers(db)) == 2


@pytest.fixture
def rq_queue(monkeypatch):
    job_support.require_redis()
    name = job_support.unique_queue()
    monkeypatch.setenv("REDIS_URL", job_support.REDIS_URL)
    monkeypatch.setenv("FORMWORK_RQ_QUEUE", name)
    yield name
    job_support.delete_queue(name)


def test_with_redis_a_worker_runs_the_import_and_the_page_shows_progress_meanwhile(admin, db, tmp_path, rq_queue):
    run = checked_run(admin, tmp_path)
    post(admin, f"{run}/run", {"skip_bad_rows": "1"})
    [(_, _, status, _, _)] = import_jobs(db)
    assert status == "queued"                                         # on RQ, waiting for a worker
    assert admin.get(f"{run}/status").get_json()["stage"] == "running"
    page = admin.get(run).get_data(as_text=True)
    assert 'id="progress"' in page and 'id="result"' not in page
    assert customers(db) == []
    assert run_worker(db, job_support.REDIS_URL, queue=rq_queue, burst=True) is True
    state = admin.get(f"{run}/status").get_json()
    assert state["stage"] == "done" and state["result"]["rows_imported"] == 2
    assert [row[2] for row in import_jobs(db)] == ["done"] and len(customers(db)) == 2
    assert 'id="result"' in admin.get(run).get_data(as_text=True)

"""`formwork jobs list|show|retry|drain|schedules` and `formwork scheduler --once`, end to
end on SQLite and PostgreSQL, with the inline runner (the test kinds of
tests/support/jobs.py; a clock that moves only when told)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from runtime.jobs import dispatch, outbox
from runtime.session import Session
from tests.support import jobs as support
from tests.support.jobs import EFFECT, FLAKY, effect_tags
from web.cli import main


@pytest.fixture(autouse=True)
def inline(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setattr(dispatch, "_down_until", {})
    monkeypatch.setenv("FORMWORK_TIMEZONE", "UTC")


@pytest.fixture
def clock(monkeypatch):
    moving = support.Clock()
    monkeypatch.setattr(outbox, "utcnow", moving)
    return moving


def run(capsys, url, *args) -> tuple[int, str, str]:
    code = main(["--database-url", url, *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_list_show_and_retry_a_failed_job(db, db_url, capsys, clock):
    support.create_effects(db)
    with Session(db).write() as uow:
        done = uow.enqueue(EFFECT, {"tag": "fine"}, key="fine:1")
        flaky = uow.enqueue(FLAKY, {"tag": "flaky", "fail_until": 3})
    for wait in (10, 20):
        clock.advance(wait)
        assert run(capsys, db_url, "jobs", "drain") == (0, "1 job(s) run\n", "")
    code, listed, _ = run(capsys, db_url, "jobs", "list")
    assert code == 0 and listed.splitlines() == [
        f"{flaky:>6}  failed   test.flaky                3/3  2026-03-02 08:00:30+0000  "
        "RuntimeError: flaky failure on attempt 3",
        f"{done:>6}  done     test.effect               1/5  2026-03-02 08:00:00+0000",
        "total: 1 done, 1 failed"]
    assert run(capsys, db_url, "jobs", "list", "--status", "done", "--kind", "test.flaky")[1] == \
        "no jobs with status done of kind test.flaky\ntotal: 1 done, 1 failed\n"

    code, shown, _ = run(capsys, db_url, "jobs", "show", str(flaky))
    assert code == 0
    assert shown.splitlines()[:10] == [
        f"id:        {flaky}", "kind:      test.flaky", f"key:       {shown.splitlines()[2].split()[1]}",
        "status:    failed", "attempts:  3 of 3", "run at:    2026-03-02 08:00:30+0000",
        "created:   2026-03-02 08:00:00+0000", "started:   2026-03-02 08:00:30+0000",
        "finished:  2026-03-02 08:00:30+0000", "actor:     system"]
    assert shown.splitlines()[10:12] == ["lease:     -", 'payload:   {"fail_until": 3, "tag": "flaky"}']
    assert "last error:\nTraceback (most recent call last):" in shown
    assert shown.rstrip().endswith("RuntimeError: flaky failure on attempt 3")

    # Run again: attempt 1 of the new round fails again (its payload says so) and waits
    assert run(capsys, db_url, "jobs", "retry", "--failed")[1] == \
        f"job {flaky} (test.flaky): queued\n"
    assert run(capsys, db_url, "jobs", "retry", str(done)) == \
        (0, f"no failed or dead job to retry among {done}\n", "")
    assert effect_tags(db) == ["fine"]


def test_show_an_unknown_job_and_retry_without_arguments(db, db_url, capsys):
    assert run(capsys, db_url, "jobs", "show", "99") == \
        (1, "", "Error: there is no job 99; `formwork jobs list` shows the jobs\n")
    code, _, err = run(capsys, db_url, "jobs", "retry")
    assert code == 2 and "give job ids or --failed" in err
    assert run(capsys, db_url, "jobs", "list") == (0, "no jobs\ntotal: 0\n", "")


def test_scheduler_once_fires_due_work_and_lists_the_schedules(db, db_url, capsys, clock):
    support.create_effects(db)
    with Session(db).write() as uow:
        uow.enqueue(EFFECT, {"tag": "delayed"}, run_at=clock.now + timedelta(minutes=1))
    assert run(capsys, db_url, "scheduler", "--once") == (0, "", "")
    clock.advance(60)
    assert run(capsys, db_url, "scheduler", "--once") == (0, "1 job(s) handed over, 0 schedule(s) fired\n", "")
    assert effect_tags(db) == ["delayed"]
    assert run(capsys, db_url, "jobs", "schedules")[1] == \
        "nightly_recompute_volatile  '0 2 * * *' UTC  recompute_volatile  next 2026-03-03 02:00:00+0000\n"


def test_worker_needs_redis(db_url, capsys):
    code, _, err = run(capsys, db_url, "worker", "--burst")
    assert code == 2 and "set REDIS_URL" in err

"""/admin/jobs, a job's page with retry and discard, and an app's automation run log,
through the test client on SQLite and PostgreSQL: filters, keyset paging links, the full
error and arguments escaped, retry and discard by POST with the CSRF token, refusals as
pages (never a 500)."""
from __future__ import annotations

import re

import pytest

from engine.storage import system
from engine.storage.db import read_connection
from runtime.automations.triggers import press_button
from runtime.jobs import outbox
from runtime.session import Session
from tests.support.automations import automation, install
from tests.support.web import csrf_from, post_form

HOSTILE = '<script>alert(1)</script>'


@pytest.fixture(autouse=True)
def english(admin):
    """The pages in English (the Chinese test switches back)."""
    post_form(admin, "/lang", {"lang": "en"})


def _job(db, kind="test.gone", *, status=outbox.FAILED, error=None, payload=None, key=None) -> int:
    now = outbox.utcnow()
    with db.begin() as conn:
        job_id = outbox.insert(conn, kind, payload or {"note": HOSTILE}, key=key, run_at=None, actor_id=None,
                               max_attempts=3, now=now, dispatched=False)
        conn.execute(system.jobs.update().where(system.jobs.c.id == job_id).values(
            status=status, attempts=3 if status == outbox.FAILED else 0, last_error=error, finished_at=now))
    return job_id


def _status(db, job_id):
    with read_connection(db) as conn:
        job = outbox.get(conn, job_id)
    return job.status if job else None


def test_the_job_list_filters_escapes_and_pages_by_keyset(admin, db, monkeypatch):
    monkeypatch.setattr("runtime.jobs.manage.PAGE_SIZE", 2)
    long_error = "Traceback (most recent call last):\n  ...\nRuntimeError: " + HOSTILE + " " + "x" * 400
    failed = _job(db, error=long_error)
    done = [_job(db, "automation.run", status=outbox.DONE) for _ in range(3)]
    page = admin.get("/admin/jobs").get_data(as_text=True)
    assert HOSTILE not in page
    assert f'data-job="{done[-1]}"' in page and f'data-job="{done[-2]}"' in page and f'data-job="{failed}"' not in page
    older = re.search(r'href="(/admin/jobs\?before=\d+)"', page).group(1)
    second = admin.get(older).get_data(as_text=True)
    assert f'data-job="{done[0]}"' in second and f'data-job="{failed}"' in second
    assert 'rel="next"' not in second and 'href="/admin/jobs"' in second         # the last page; back to the newest
    only_failed = admin.get("/admin/jobs?status=failed").get_data(as_text=True)
    assert f'data-job="{failed}"' in only_failed and f'data-job="{done[0]}"' not in only_failed
    assert "RuntimeError: &lt;script&gt;alert(1)&lt;/script&gt; xxx" in only_failed
    assert "x" * 300 not in only_failed and "…" in only_failed                # shortened
    by_kind = admin.get("/admin/jobs?kind=automation.run").get_data(as_text=True)
    assert f'data-job="{failed}"' not in by_kind and f'data-job="{done[-1]}"' in by_kind
    assert "No job matches." in admin.get("/admin/jobs?kind=nothing").get_data(as_text=True)
    wrong = admin.get("/admin/jobs?status=exploded", headers={"Accept": "text/html"})
    assert wrong.status_code == 400 and "the statuses are queued, running, done, failed, dead" in wrong.get_data(
        as_text=True)


def test_a_job_page_shows_everything_and_retries_then_refuses(admin, db):
    job_id = _job(db, error="Traceback ...\nValueError: " + HOSTILE)
    page = admin.get(f"/admin/jobs/{job_id}").get_data(as_text=True)
    assert HOSTILE not in page and "ValueError: &lt;script&gt;" in page
    assert "&#34;note&#34;: &#34;&lt;script&gt;" in page or "&quot;note&quot;" in page     # arguments, escaped
    assert "3 of 3" in page and "Retry" in page and "Discard" in page
    answer = post_form(admin, f"/admin/jobs/{job_id}/retry", token_from=f"/admin/jobs/{job_id}")
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/admin/jobs/{job_id}")
    # its kind is registered nowhere: run after the commit, buried dead; retry it was
    assert _status(db, job_id) == outbox.DEAD
    shown = admin.get(f"/admin/jobs/{job_id}").get_data(as_text=True)
    assert f"Job #{job_id} was queued again." in shown and "no job kind &#39;test.gone&#39;" in shown


def test_retrying_a_job_that_is_not_failed_says_so(admin, db):
    job_id = _job(db, "automation.run", status=outbox.DONE)
    token = csrf_from(admin, f"/admin/jobs/{job_id}")
    assert "Retry" not in admin.get(f"/admin/jobs/{job_id}").get_data(as_text=True)
    for action in ("retry", "discard"):
        answer = admin.post(f"/admin/jobs/{job_id}/{action}", data={"csrf_token": token})
        assert answer.status_code == 409
        assert f"Job #{job_id} is done now" in answer.get_data(as_text=True)
    assert _status(db, job_id) == outbox.DONE
    missing = admin.post("/admin/jobs/999999/retry", data={"csrf_token": token}, headers={"Accept": "text/html"})
    assert missing.status_code == 404 and "There is no job #999999" in missing.get_data(as_text=True)
    assert admin.get("/admin/jobs/999999").status_code == 404


def test_discard_deletes_a_failed_job(admin, db):
    job_id = _job(db, error="boom")
    answer = post_form(admin, f"/admin/jobs/{job_id}/discard", token_from=f"/admin/jobs/{job_id}")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/admin/jobs")
    assert _status(db, job_id) is None
    assert f"Job #{job_id} was discarded." in admin.get("/admin/jobs").get_data(as_text=True)


def test_a_post_without_the_csrf_token_changes_nothing(admin, db):
    job_id = _job(db, error="boom")
    assert admin.post(f"/admin/jobs/{job_id}/discard").status_code == 400
    assert _status(db, job_id) == outbox.FAILED


@pytest.fixture
def runs_app(db):
    task = {"kind": "create_record", "form": "tasks", "values": {"title": '"t"'}}
    install(db, automation("make_task", {"kind": "button", "label": {"zh": "建任务", "en": "Make task"}}, [task]),
            automation("broken", {"kind": "button", "label": {"zh": "坏", "en": "Broken"}},
                       [{"kind": "create_record", "form": "tasks", "values": {"code": "name"}}]))
    lead = Session(db).write(lambda uow: uow.records("auto").create("leads", {"name": HOSTILE}))
    for key in ("make_task", "make_task", "broken"):
        press_button(Session(db), "auto", "leads", key, lead["id"])
    return lead


def test_the_run_log_of_an_app_filters_and_links(admin, db, runs_app, monkeypatch):
    page = admin.get("/admin/apps/auto/runs").get_data(as_text=True)
    assert page.count("data-run=") == 3 and HOSTILE not in page
    assert f'/apps/auto/forms/leads/records/{runs_app["id"]}' in page and "/admin/jobs/" in page
    failed = admin.get("/admin/apps/auto/runs?outcome=failed").get_data(as_text=True)
    assert failed.count("data-run=") == 1 and "broken" in failed
    assert admin.get("/admin/apps/auto/runs?automation=make_task").get_data(as_text=True).count("data-run=") == 2
    monkeypatch.setattr("runtime.automations.runs.PAGE_SIZE", 2)
    first = admin.get("/admin/apps/auto/runs").get_data(as_text=True)
    older = re.search(r'href="(/admin/apps/auto/runs\?before=\d+)"', first).group(1)
    assert first.count("data-run=") == 2 and admin.get(older).get_data(as_text=True).count("data-run=") == 1
    assert "/admin/apps/auto/runs" in admin.get("/admin/apps/auto").get_data(as_text=True)
    assert admin.get("/admin/apps/nope/runs", headers={"Accept": "text/html"}).status_code == 404
    assert admin.get("/admin/apps/auto/runs?outcome=bad", headers={"Accept": "text/html"}).status_code == 400


def test_the_pages_speak_chinese_by_default(admin, db, runs_app):
    admin.post("/lang", data={"lang": "zh_CN", "csrf_token": csrf_from(admin, "/")})
    page = admin.get("/admin/jobs").get_data(as_text=True)
    assert "后台任务" in page and "状态" in page
    assert "自动化运行记录" in admin.get("/admin/apps/auto/runs").get_data(as_text=True)

"""An administrator finds a failed job in the background jobs list, at phone and desktop
width, opens it, reads its error and arguments, and retries it; reads an app's run log
filtered to its failed runs; the pages fit the width (no sideways scroll)."""
from __future__ import annotations

import pytest

from engine.storage import system
from runtime.automations.triggers import press_button
from runtime.jobs import outbox
from runtime.session import Session
from tests.support.automations import automation, install
from tests.support.browser import DESKTOP, PHONE, screenshot, sign_in_page
from tests.support.web import PASSWORD, add_user

ERROR = ("Traceback (most recent call last):\n  File \"runtime/automations/actions.py\", line 88, in run\n"
         "    records.create(form, values)\nengine.errors.RecordValidationError: title: 必填字段“标题”没有填写；"
         "请填写后再保存 (automations[2].actions[0] of app crm_referral, a very long line that should wrap "
         "rather than push the page sideways on a phone)")


def _jobs(db) -> int:
    now = outbox.utcnow()
    failed = None
    with db.begin() as conn:
        for n, (kind, status) in enumerate([("automation.run", "done"), ("notification.deliver", "done"),
                                            ("webhook.deliver", "queued"), ("test.gone", "dead"),
                                            ("automation.run", "failed")]):
            job_id = outbox.insert(conn, kind, {"app": "crm_referral", "automation": "assign_referred_lead",
                                                "record": 40 + n, "payload": {"note": "<b>x</b>"}},
                                   key=None, run_at=None, actor_id=None, max_attempts=5, now=now, dispatched=False)
            conn.execute(system.jobs.update().where(system.jobs.c.id == job_id).values(
                status=status, attempts=5 if status == "failed" else 1,
                last_error=ERROR if status in ("failed", "dead") else None,
                finished_at=now if status != "queued" else None))
            failed = job_id if status == "failed" else failed
    return failed


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_an_admin_retries_a_failed_job(db, live_app, open_page, viewport, request):
    width, backend = viewport["width"], request.node.callspec.params.get("db_url", "db")
    add_user(db, "admin", "管理员", is_admin=True)
    failed = _jobs(db)
    page = open_page(viewport)
    sign_in_page(page, live_app.url, "admin", PASSWORD)
    page.goto(f"{live_app.url}/admin/jobs")
    assert page.locator("tr[data-job]").count() == 5
    assert no_sideways_scroll(page)
    screenshot(page, f"admin-jobs-{width}-{backend}")

    page.select_option("select[name=status]", "failed")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("tr[data-job]").count() == 1
    page.click(f"tr[data-job='{failed}'] a")
    page.wait_for_load_state()
    assert page.url.endswith(f"/admin/jobs/{failed}")
    assert "RecordValidationError" in page.locator("pre[data-error]").inner_text()
    assert "<b>x</b>" in page.locator("pre[data-payload]").inner_text()
    assert no_sideways_scroll(page)
    screenshot(page, f"admin-job-{width}-{backend}")

    page.click("button:has-text('重试')")
    page.wait_for_load_state()
    assert f"任务 #{failed} 已重新排队。" in page.locator(".notice-success").inner_text()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_an_admin_reads_an_apps_run_log(db, live_app, open_page, viewport, request):
    width, backend = viewport["width"], request.node.callspec.params.get("db_url", "db")
    add_user(db, "admin", "管理员", is_admin=True)
    task = {"kind": "create_record", "form": "tasks", "values": {"title": '"跟进 " & name'}}
    install(db, automation("make_task", {"kind": "button", "label": {"zh": "建任务", "en": "Make task"}}, [task]),
            automation("broken", {"kind": "button", "label": {"zh": "会失败", "en": "Fails"}},
                       [{"kind": "create_record", "form": "tasks", "values": {"code": "name"}}]))
    lead = Session(db).write(lambda uow: uow.records("auto").create("leads", {"name": "王小明"}))
    for key in ("make_task", "broken", "make_task"):
        press_button(Session(db), "auto", "leads", key, lead["id"])
    page = open_page(viewport)
    sign_in_page(page, live_app.url, "admin", PASSWORD)
    page.goto(f"{live_app.url}/admin/apps/auto/runs")
    assert page.locator("tr[data-run]").count() == 3
    page.select_option("select[name=outcome]", "failed")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("tr[data-run]").count() == 1
    assert no_sideways_scroll(page)
    screenshot(page, f"admin-runs-{width}-{backend}")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_user_presses_a_button_on_a_record(db, live_app, open_page, viewport, request):
    width, backend = viewport["width"], request.node.callspec.params.get("db_url", "db")
    add_user(db, "li.lei", "李雷")
    task = {"kind": "create_record", "form": "tasks", "values": {"title": '"跟进 " & name', "lead": "id"}}
    install(db, automation("make_task", {"kind": "button", "label": {"zh": "建跟进任务", "en": "Follow up"}}, [task]),
            automation("high_only", {"kind": "button", "label": {"zh": "高分建任务", "en": "High scores"}}, [task],
                       condition="score > 10"))
    lead = Session(db).write(lambda uow: uow.records("auto").create("leads", {"name": "王小明", "score": 3}))
    page = open_page(viewport)
    sign_in_page(page, live_app.url, "li.lei", PASSWORD)
    page.goto(f"{live_app.url}/apps/auto/forms/leads/records/{lead['id']}")
    page.click("button[data-button=make_task]")
    page.wait_for_load_state()
    assert "“建跟进任务”已运行。" in page.locator(".notice-success").inner_text()
    assert no_sideways_scroll(page)
    screenshot(page, f"record-button-{width}-{backend}")
    page.click("button[data-button=high_only]")
    page.wait_for_load_state()
    assert "这条记录不满足它的条件" in page.locator(".notice-warning").inner_text()

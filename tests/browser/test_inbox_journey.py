"""Approving on a phone: fay (finance) signs in at 375 px, opens the inbox, opens the
task's record, approves it with a comment and sees the status change."""
from __future__ import annotations

from tests.support.browser import PHONE, screenshot, sign_in_page
from tests.support.web import PASSWORD
from tests.support.workflow_web import set_up, submit


def test_an_approver_approves_on_a_phone(db, live_app, open_page):
    set_up(db)
    record_id = submit(db, "差旅报销", 20000)
    page = open_page(PHONE)
    sign_in_page(page, live_app.url, "fay", PASSWORD)
    assert page.locator("[data-count=tasks]").inner_text() == "1"

    page.click(".topbar-link[href='/tasks']")
    page.wait_for_url("**/tasks")
    screenshot(page, "inbox-pending-375")
    with page.expect_navigation():
        page.click(f".task-link[href$='/records/{record_id}']")
    assert page.locator("[data-workflow-status]").get_attribute("data-workflow-status") == "running"
    assert page.locator(".flow-step[aria-current=step]").inner_text().startswith("财务审批")
    screenshot(page, "inbox-task-record-375")

    page.fill(".task-form textarea[name=comment]", "预算内，同意")
    with page.expect_navigation():
        page.click(".task-form button.btn-primary")
    assert page.locator("[data-workflow-status]").get_attribute("data-workflow-status") == "approved"
    assert page.locator(".notice-success").is_visible()
    assert "预算内，同意" in page.locator(".workflow-log").inner_text()
    assert page.locator(".task-form").count() == 0
    assert page.locator("[data-count=tasks]").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "inbox-approved-375")

    page.goto(f"{live_app.url}/tasks?box=done")
    assert "预算内，同意" in page.locator(".task-list").inner_text()
    screenshot(page, "inbox-done-375")

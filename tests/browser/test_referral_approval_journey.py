"""Issue #10's journey on the flagship (apps/crm_referral.yaml, workflow referral_review):
王芳, a salesperson, submits a referral on the form page at phone width, which starts its
review; 陈静, the sales manager, opens the inbox at 375 px (the record's number as the
task's title), opens the record, returns it to the submitter with a comment; 王芳 sees
the comment and submits again; 陈静 sets the status the node lets her edit and approves.
Screenshots at 375 and 1280 px."""
from __future__ import annotations

from runtime.session import Session
from tests.support.browser import DESKTOP, PHONE, screenshot, sign_in_page
from tests.support.web import PASSWORD, install_flagship

BASE = "/apps/crm_referral/forms/referrals"


def _people(engine) -> dict:
    with Session(engine).write() as uow:
        users = uow.org.users
        fang = users.add("wang.fang", "王芳", password=PASSWORD).id
        jing = users.add("chen.jing", "陈静", password=PASSWORD).id
        uow.org.roles.create("sales", "销售")
        uow.org.roles.assign("sales", [fang])
        uow.org.roles.create("sales_manager", "销售经理")
        uow.org.roles.assign("sales_manager", [jing])
        customer = uow.records("crm_referral").create(
            "customers", {"name": "上海明达科技", "kind": "企业", "owner": fang, "phone": "13900001111"})["id"]
    return {"fang": fang, "jing": jing, "customer": customer}


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_referral_is_returned_resubmitted_and_approved(db, live_app, open_page, request):
    install_flagship(db)
    _people(db)
    backend = request.node.callspec.id
    shot = lambda page, name: screenshot(page, f"referral-{name}-{backend}")   # noqa: E731

    # 王芳 submits the referral (phone)
    fang = open_page(PHONE)
    sign_in_page(fang, live_app.url, "wang.fang", PASSWORD)
    fang.goto(f"{live_app.url}{BASE}/new")
    fang.locator("[data-field=referrer] .ts-control").click()
    fang.keyboard.type("明达")
    fang.locator(".ts-dropdown .option", has_text="上海明达科技").first.click()
    fang.fill("#f-friend_name", "李四")
    fang.fill("#f-friend_phone", "13800002222")
    fang.locator("[data-field=consent] .switch").click()
    with fang.expect_navigation():
        fang.click("form.record-form button[type=submit]")
    assert "/records/" in fang.url, fang.locator("#form-errors").inner_text()
    record_url = fang.url.split("#")[0]
    assert fang.locator("[data-workflow-status]").get_attribute("data-workflow-status") == "running"
    assert fang.locator(".flow-step[aria-current=step]").inner_text().startswith("销售经理审核")
    assert fang.locator("[data-offer=instance]").get_attribute("data-actions") == "withdraw urge"
    shot(fang, "submitted-375")

    # 陈静 opens the inbox on her phone and returns it
    jing = open_page(PHONE)
    sign_in_page(jing, live_app.url, "chen.jing", PASSWORD)
    assert jing.locator("[data-count=tasks]").inner_text() == "1"
    jing.click(".topbar-link[href='/tasks']")
    jing.wait_for_url("**/tasks")
    title = jing.locator(".task-item [data-title]").inner_text()
    assert title.startswith("ZJS"), title                  # the referral's number (the form's title field)
    assert _fits(jing)
    shot(jing, "inbox-375")
    with jing.expect_navigation():
        jing.click(".task-link")
    assert jing.locator(".task-card[data-kind=approve]").get_attribute("data-actions").split() == [
        "approve", "reject", "return", "transfer", "add_before", "add_after"]
    assert jing.locator(".task-form [data-field=status] select").count() == 1     # the node lets her edit it
    shot(jing, "record-375")
    jing.click(".task-card .task-more summary")
    form = jing.locator("form[data-action=return]")
    assert form.locator("select[name=to]").input_value() == "submitter"
    form.locator("textarea[name=comment]").fill("请补充被推荐人的公司名称")
    assert _fits(jing)
    shot(jing, "return-open-375")
    with jing.expect_navigation():
        form.locator("button[type=submit]").click()
    assert "已退回" in jing.locator(".notice-success").inner_text()
    assert jing.locator(".task-card").count() == 0
    assert "请补充被推荐人的公司名称" in jing.locator(".workflow-log").inner_text()
    shot(jing, "returned-375")

    # 王芳 sees why and submits again
    fang.goto(record_url)
    assert "请补充被推荐人的公司名称" in fang.locator(".workflow-log").inner_text()
    fang.fill(".task-form textarea[name=comment]", "已补充：明达科技采购部")
    shot(fang, "resubmit-375")
    with fang.expect_navigation():
        fang.click(".task-form button[data-action=approve]")
    assert "已重新提交" in fang.locator(".notice-success").inner_text()

    # 陈静 approves on a desktop, setting the status
    desk = open_page(DESKTOP)
    sign_in_page(desk, live_app.url, "chen.jing", PASSWORD)
    desk.goto(f"{live_app.url}/tasks")
    shot(desk, "inbox-1280")
    with desk.expect_navigation():
        desk.click(".task-link")
    desk.select_option(".task-form [data-field=status] select", "contacted")
    desk.fill(".task-form textarea[name=comment]", "已电话联系，信息属实")
    shot(desk, "record-1280")
    with desk.expect_navigation():
        desk.click(".task-form button[data-action=approve]")
    assert desk.locator("[data-workflow-status]").get_attribute("data-workflow-status") == "approved"
    assert "已联系" in desk.locator("[data-field=status]").inner_text()
    assert "已电话联系，信息属实" in desk.locator(".workflow-log").inner_text()
    shot(desk, "approved-1280")
    jing.goto(record_url)
    assert jing.locator("[data-workflow-status]").get_attribute("data-workflow-status") == "approved"
    assert _fits(jing)
    shot(jing, "approved-375")

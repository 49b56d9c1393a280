"""The data-table journey at phone and desktop width: build a filter in the filter
builder, find the record, open it, see its history after an edit (made through the
runtime: the form page is another branch's), delete it and restore it from the bin."""
from __future__ import annotations

import pytest

from runtime.permissions import FULL_ACCESS
from tests.support.browser import DESKTOP, PHONE, LiveServer, screenshot, sign_in_page
from tests.support.table_pages import add_customers, crm_site
from tests.support.web import PASSWORD

BASE = "/apps/crm/forms/customers"


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_find_open_edit_delete_restore(db, browser, open_page, viewport, request):
    app, crm = crm_site(db)
    add_customers(crm, [{"name": "上海明达科技", "level": "vip", "owner": crm.li.user_id, "dept": crm.dept_id,
                         "credit": 500, "note": "年度框架协议"},
                        {"name": "杭州云帆", "level": "normal", "owner": crm.han.user_id, "credit": 80},
                        {"name": "苏州恒信", "level": "normal", "credit": 120},
                        {"name": "<script>alert(1)</script>", "level": "normal"}])
    width, backend = viewport["width"], request.node.callspec.params.get("db_url", "db")
    shot = lambda page, name: screenshot(page, f"table-{name}-{width}-{backend}")   # noqa: E731
    with LiveServer(app) as server:
        page = open_page(viewport)
        dialogs = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
        sign_in_page(page, server.url, "li.lei", PASSWORD)
        page.goto(server.url + BASE)
        assert page.locator("tr[data-id]").count() == 4
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        shot(page, "list")

        page.click("button[data-toggle=filter-panel]")
        condition = page.locator("#filter-builder .condition").first
        condition.locator("select").nth(0).select_option("level")
        condition = page.locator("#filter-builder .condition").first
        assert "等于" in condition.locator("select").nth(1).inner_text()
        condition.locator("select").nth(2).select_option("vip")
        shot(page, "filter-builder")
        page.click("#filter-apply")
        page.wait_for_load_state()
        rows = page.locator("tr[data-id]")
        assert rows.count() == 1 and "上海明达科技" in rows.first.inner_text()
        shot(page, "filtered")

        page.click("a.record-link")
        page.wait_for_load_state()
        assert "上海明达科技" in page.locator("h1").inner_text()
        record_url = page.url
        with db.begin() as conn:
            crm.records(conn, crm.li, policy=FULL_ACCESS).update("customers", 1, {"level": "normal", "credit": 650})
        page.reload()
        history = page.locator("#history").inner_text()
        assert "重要客户" in history and "普通客户" in history and "650" in history
        shot(page, "record")

        page.click("form[data-confirm] button")
        page.wait_for_load_state()
        assert dialogs and "回收站" in dialogs[-1]
        assert "已移入回收站" in page.locator(".notice").inner_text()
        page.goto(server.url + BASE + "/trash")
        assert "上海明达科技" in page.locator("tbody").inner_text()
        shot(page, "trash")
        page.click("tr[data-id='1'] [data-restore-one]")
        page.wait_for_load_state()
        assert "已恢复 1 条记录" in page.locator(".notice").inner_text()
        page.goto(record_url)
        assert "上海明达科技" in page.locator("h1").inner_text()
    app.extensions["formwork"].engine.dispose()

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


def test_columns_saved_view_and_bulk_edit_on_a_desktop(db, browser, open_page, request):
    app, crm = crm_site(db)
    add_customers(crm, [{"name": f"客户{i}", "level": "normal", "credit": i} for i in range(1, 4)])
    backend = request.node.callspec.params.get("db_url", "db")
    with LiveServer(app) as server:
        page = open_page(DESKTOP)
        page.on("dialog", lambda dialog: dialog.accept())
        sign_in_page(page, server.url, "li.lei", PASSWORD)
        page.goto(server.url + BASE)

        page.click("button[data-toggle=columns-panel]")
        for key in ("owner", "dept", "note"):
            page.uncheck(f".column-item[data-key={key}] input")
        page.check(".column-item[data-key=created_at] input")
        page.drag_and_drop(".column-item[data-key=credit] .drag-handle", ".column-item[data-key=level]")
        screenshot(page, f"table-columns-1280-{backend}")
        page.click("#columns-apply")
        page.wait_for_load_state()
        headers = page.locator("thead th[data-key]").evaluate_all("els => els.map(e => e.dataset.key)")
        assert headers == ["name", "credit", "level", "created_at"]     # credit dragged before level

        page.click("th[data-key=credit] .sort-button")
        page.wait_for_load_state()
        assert page.locator("td.title-col").all_inner_texts() == ["客户1", "客户2", "客户3"]
        page.click("button[data-toggle=view-panel]")
        page.fill("#view-name", "按额度")
        page.check("#view-default")
        page.click("#view-save-new")
        page.wait_for_url("**view=*")
        page.goto(server.url + BASE)            # the default view opens with its columns
        assert "按额度 ★" in page.locator("#view-select").inner_text()
        assert page.locator("thead th[data-key]").count() == 4

        page.check("tr[data-id='1'] .row-select")
        page.check("tr[data-id='2'] .row-select")
        assert "已选 2 条" in page.locator("#bulk-count").inner_text()
        page.select_option("#bulk-field", "level")
        page.select_option("#bulk-input", "vip")
        screenshot(page, f"table-bulk-1280-{backend}")
        with page.expect_navigation():          # the page reloads once the records are saved
            page.click("#bulk-set")
        levels = page.locator("tbody tr").evaluate_all(
            "rows => rows.map(r => r.querySelectorAll('td')[3].textContent.trim())")
        assert levels == ["重要客户", "重要客户", "普通客户"]
        screenshot(page, f"table-after-bulk-1280-{backend}")
    app.extensions["formwork"].engine.dispose()

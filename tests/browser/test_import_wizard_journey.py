"""Importing a file through the wizard, at phone and desktop width: upload, change the
column mapping, see the refused cells of the dry run, import the valid rows with the
progress page, and find the report to download."""
from __future__ import annotations

import pytest

from tests.support.browser import DESKTOP, PHONE, LiveServer, screenshot, sign_in_page
from tests.support.import_files import PHONE_COLUMN, customers_csv
from tests.support.web import PASSWORD, add_user, install_flagship, make_app


@pytest.fixture
def import_server(db, browser, tmp_path):
    install_flagship(db)
    add_user(db, "li.lei", "李雷")
    add_user(db, "admin", "管理员", is_admin=True)
    app = make_app(db, FORMWORK_IMPORT_DIR=str(tmp_path / "imports"))
    with LiveServer(app) as server:
        yield server
    app.extensions["formwork"].engine.dispose()


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_import_a_file_through_the_wizard(import_server, open_page, viewport, request, tmp_path):
    width, backend = viewport["width"], request.node.callspec.params.get("db_url", "db")
    page = open_page(viewport)
    sign_in_page(page, import_server.url, "admin", PASSWORD)
    page.goto(f"{import_server.url}/apps/crm_referral/forms/customers/import")
    assert page.locator(".steps li.current").inner_text().endswith("上传")
    screenshot(page, f"import-upload-{width}-{backend}")

    page.set_input_files("input[type=file]", str(customers_csv(tmp_path)))
    page.click("#upload-form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator(f"select[name=map_{PHONE_COLUMN}]").input_value() == ""     # 手机: no field found
    assert page.locator("select[name=map_0]").input_value() == "name"
    assert no_sideways_scroll(page)
    screenshot(page, f"import-mapping-{width}-{backend}")

    page.select_option(f"select[name=map_{PHONE_COLUMN}]", "phone")
    page.click("#mapping button[type=submit]")
    page.wait_for_load_state()
    problems = page.locator("table.problems tbody tr")
    assert problems.count() == 3
    assert "1381234" in problems.nth(0).inner_text()
    assert page.locator("table.problems").inner_text().count("<img src=x onerror=alert(1)>") == 2   # value and reason, as text
    assert page.evaluate("document.querySelectorAll('table.problems img').length") == 0
    screenshot(page, f"import-check-{width}-{backend}")

    assert page.locator("input[name=skip_bad_rows]").is_checked()
    page.click(".run-form button[type=submit]")
    page.wait_for_selector("#result", timeout=30_000)                                # the progress page reloads
    assert "已导入 2 行" in page.locator("#result").inner_text()
    assert page.locator("a[href*='report.xlsx']").count() == 1
    assert no_sideways_scroll(page)
    screenshot(page, f"import-done-{width}-{backend}")

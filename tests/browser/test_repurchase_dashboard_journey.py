"""The flagship's repurchase dashboard in Chromium at phone and desktop width, over orders
the test writes: its three charts drawn by ECharts, the RFM table and the reminder table
filled, nothing wider than the screen; a chart saved as PNG and a widget as XLSX."""
from __future__ import annotations

import pytest

from runtime.dashboards import CACHE
from tests.support.browser import DESKTOP, PHONE, screenshot, sign_in_page
from tests.support.flagship_records import write_records
from tests.support.repurchase_orders import CUSTOMERS, orders
from tests.support.web import PASSWORD, add_user, install_flagship


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_repurchase_dashboard_on_a_phone_and_a_desktop(db, live_app, open_page, size):
    install_flagship(db)
    write_records(db, customers=CUSTOMERS, orders=orders())
    add_user(db, "boss", "老板", is_admin=True)
    CACHE.clear()        # the process's widget cache may hold another test's database's figures
    page = open_page(size)
    sign_in_page(page, live_app.url, "boss", PASSWORD)
    page.goto(f"{live_app.url}/apps/crm_referral/dashboards/repurchase")
    page.wait_for_function("document.querySelectorAll('.chart canvas').length === 3")
    assert page.locator('[data-widget="rfm"] tbody tr').count() == 7
    assert page.locator('[data-widget="due_reminder"] tbody tr').count() >= 1
    assert page.locator("[data-xlsx]").count() == 8
    assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
    page.wait_for_timeout(1200)           # the charts' opening animation, for the picture
    chart = page.locator('[data-widget="repurchase_by_month"]')
    with page.expect_download() as png:
        chart.locator("[data-png]").click()
    assert png.value.suggested_filename == "repurchase_by_month.png"
    assert open(png.value.path(), "rb").read(8) == b"\x89PNG\r\n\x1a\n"       # drawn by ECharts' getDataURL
    with page.expect_download() as sheet:
        chart.locator("[data-xlsx]").click()
    assert sheet.value.suggested_filename == "repurchase-repurchase_by_month.xlsx"
    assert open(sheet.value.path(), "rb").read(2) == b"PK"
    screenshot(page, f"repurchase-{size['width']}-{db.dialect.name}")

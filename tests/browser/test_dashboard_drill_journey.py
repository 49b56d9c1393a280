"""Drill-down in Chromium: a click on a bar of the sales dashboard's contracts-by-month
chart opens the contracts table filtered to that month, with as many rows as the bar
counts (records written by the test, March's last day included)."""
from __future__ import annotations

from runtime.dashboards import CACHE
from tests.support.browser import DESKTOP, sign_in_page
from tests.support.flagship_records import write_records
from tests.support.web import PASSWORD, add_user, install_flagship

CONTRACTS = [{"title": f"合同{n}", "customer": "甲", "amount": "100.00", "signed_on": day}
             for n, day in enumerate(["2026-01-10", "2026-02-01", "2026-02-28", "2026-03-01", "2026-03-15",
                                      "2026-03-31"])]


def test_a_click_on_a_bar_opens_the_table_of_its_records(db, live_app, open_page):
    install_flagship(db)
    write_records(db, customers=[{"name": "甲", "level": "vip"}], contracts=CONTRACTS)
    add_user(db, "boss", "老板", is_admin=True)
    CACHE.clear()        # the process's widget cache may hold another test's database's figures
    page = open_page(DESKTOP)
    sign_in_page(page, live_app.url, "boss", PASSWORD)
    page.goto(f"{live_app.url}/apps/crm_referral/dashboards/sales")
    holder = '[data-widget="contracts_by_month"] .chart'
    page.wait_for_function(f"document.querySelector('{holder} canvas') !== null")
    page.locator(holder).scroll_into_view_if_needed()
    page.wait_for_timeout(1500)          # the bars' opening animation
    # where ECharts drew March's bar (the third category, the first series), just above its foot
    point = page.evaluate(f"""() => {{
        const el = document.querySelector('{holder}');
        const chart = window.echarts.getInstanceByDom(el);
        const bar = chart.getModel().getSeriesByIndex(0).getData().getItemLayout(2);
        const box = el.getBoundingClientRect();
        return [box.left + bar.x + bar.width / 2, box.top + bar.y - 4];
    }}""")
    with page.expect_navigation():
        page.mouse.click(point[0], point[1])
    assert "/apps/crm_referral/forms/contracts" in page.url and "filter=" in page.url
    assert page.locator("tr[data-id]").count() == 3
    titles = page.locator("tr[data-id]").all_inner_texts()
    assert all(any(t in row for t in ("合同3", "合同4", "合同5")) for row in titles)

"""The filter builder at phone and desktop width, driven by the runtime's description:
a member chosen by searching the member picker, a nested group holding a "last 30 days"
shortcut and an option, applied to the table."""
from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest

from tests.support.browser import DESKTOP, PHONE, LiveServer, screenshot, sign_in_page
from tests.support.table_pages import add_customers, crm_site
from tests.support.web import PASSWORD

BASE = "/apps/crm/forms/customers"


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_member_picker_day_shortcut_and_nested_group(db, browser, open_page, viewport, request):
    app, crm = crm_site(db)
    add_customers(crm, [{"name": "李的客户", "level": "vip", "owner": crm.li.user_id},
                        {"name": "韩的重要客户", "level": "vip", "owner": crm.han.user_id},
                        {"name": "韩的普通客户", "level": "normal", "owner": crm.han.user_id}])
    width, backend = viewport["width"], request.node.callspec.params.get("db_url", "db")
    with LiveServer(app) as server:
        page = open_page(viewport)
        sign_in_page(page, server.url, "li.lei", PASSWORD)
        page.goto(server.url + BASE)
        page.click("button[data-toggle=filter-panel]")
        first = page.locator("#filter-builder .condition").first
        first.locator("select").nth(0).select_option("owner")
        first = page.locator("#filter-builder .condition").first
        first.locator(".org-search").fill("韩")
        page.wait_for_selector(f"#filter-builder .org-choices option[value='{crm.han.user_id}']", state="attached")
        page.wait_for_function("document.querySelectorAll('#filter-builder .org-choices option[value]:not([value=\"\"])').length === 1")
        first.locator(".org-choices").select_option(str(crm.han.user_id))

        page.click("#filter-builder > .group > .group-actions [data-add=group]")
        nested = page.locator("#filter-builder .group.nested")
        assert nested.count() == 1
        nested.locator(".group-head select").select_option("and")
        row = nested.locator(".condition").first
        row.locator("select").nth(0).select_option("created_at")
        row = nested.locator(".condition").first
        row.locator("select").nth(1).select_option("last_n_days")
        row = nested.locator(".condition").first
        assert row.locator(".day-preset").all_inner_texts() == ["最近 7 天", "最近 30 天"]
        row.locator(".day-preset[data-days='30']").click()
        assert row.locator("input.days").input_value() == "30"
        nested.locator(".group-actions [data-add=condition]").click()
        second = nested.locator(".condition").nth(1)
        second.locator("select").nth(0).select_option("level")
        second = nested.locator(".condition").nth(1)
        second.locator("select").nth(2).select_option("vip")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        screenshot(page, f"filter-builder-nested-{width}-{backend}")

        page.click("#filter-apply")
        page.wait_for_load_state()
        assert page.locator("tr[data-id] a.record-link").all_inner_texts() == ["韩的重要客户"]
        applied = json.loads(parse_qs(urlparse(page.url).query)["filter"][0])
        assert applied == {"and": [{"field": "owner", "op": "eq", "value": crm.han.user_id},
                                   {"and": [{"field": "created_at", "op": "last_n_days", "value": 30},
                                            {"field": "level", "op": "eq", "value": "vip"}]}]}
        page.click("button[data-toggle=filter-panel]")          # the builder reopens with what it built
        assert page.locator("#filter-builder .group.nested .condition").count() == 2
        screenshot(page, f"filter-builder-applied-{width}-{backend}")
    app.extensions["formwork"].engine.dispose()

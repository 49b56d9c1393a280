"""The referral analytics page in Chromium at phone and desktop width: the top referrers,
then the tree of the first one, nothing wider than the screen."""
from __future__ import annotations

import pytest

from runtime.seed import seed_app
from tests.support.browser import DESKTOP, PHONE, screenshot, sign_in_page
from tests.support.web import PASSWORD, add_user, install_flagship


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_referral_analytics_on_a_phone_and_a_desktop(db, live_app, open_page, size):
    install_flagship(db)
    seed_app(db, "crm_referral", 40, seed=3)
    add_user(db, "boss", "老板", is_admin=True)
    page = open_page(size)
    sign_in_page(page, live_app.url, "boss", PASSWORD)
    page.goto(f"{live_app.url}/apps/crm_referral/referrals/analytics")
    rows = page.locator("[data-section=referrers] tbody tr")
    assert rows.count() >= 3
    rows.first.get_by_role("link", name="查看推荐树").click()
    page.wait_for_selector(".referral-tree li[data-depth='1']")
    assert page.locator(".referral-tree li").count() >= 2
    assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
    screenshot(page, f"referral-analytics-{size['width']}-{db.dialect.name}")

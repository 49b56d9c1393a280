"""The friend's journey through a share link at phone and desktop width: two referrers'
links clicked, the landing page with the campaign and the masked referrer, a submit
without consent refused beside the box with the values kept, then consent and thanks;
the referral is credited to the first link clicked, with its channel, consent time and
device cookie."""
from __future__ import annotations

import pytest

from tests.support.browser import DESKTOP, PHONE, screenshot
from tests.support.referrals_app import install, make_programme, referrals


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_referral_landing_journey(db, live_app, open_page, viewport, request):
    install(db)
    made = make_programme(db)
    zhang, li = made.codes
    width = viewport["width"]
    backend = request.node.callspec.params.get("db_url", "db")
    page = open_page(viewport)

    page.goto(f"{live_app.url}/r/{zhang}")          # the first link the friend clicks
    page.goto(f"{live_app.url}/r/{li}")
    assert page.locator("[data-testid=campaign]").inner_text() == "春季推荐有礼"
    assert "李*" in page.locator("[data-testid=referrer]").inner_text()
    assert not page.is_checked("input[name=consent]")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, f"referral-landing-{width}-{backend}")

    page.fill("input[name=friend_name]", "王五")
    page.fill("input[name=friend_phone]", "139 0000 0003")
    page.fill("input[name=friend_email]", "wangwu@example.com")
    page.click("button.ref-submit")
    error = page.locator("[data-error=consent]")
    assert error.is_visible() and "请勾选同意" in error.inner_text()
    assert page.input_value("input[name=friend_name]") == "王五"
    assert page.input_value("input[name=friend_phone]") == "139 0000 0003"
    assert referrals(db) == []
    screenshot(page, f"referral-consent-error-{width}-{backend}")

    page.check("input[name=consent]")
    page.click("button.ref-submit")
    page.wait_for_url(f"{live_app.url}/r/{li}/thanks")
    assert "提交成功" in page.locator("[data-testid=thanks]").inner_text()
    screenshot(page, f"referral-thanks-{width}-{backend}")

    [stored] = referrals(db)
    visitor = next(c["value"] for c in page.context.cookies() if c["name"] == "fw_ref_visitor")
    assert stored["referrer"] == made.referrers[0]               # first touch: 张三's link
    assert (stored["channel"], stored["referral_code"], stored["device_id"]) == ("link", zhang, visitor)
    assert stored["consent"] is True and stored["consent_at"] is not None
    assert stored["friend_phone"] == "13900000003"

    page.goto(f"{live_app.url}/r/SPR25-NOBODY")
    assert "邀请链接无效" in page.locator("[data-testid=closed]").inner_text()
    screenshot(page, f"referral-unknown-{width}-{backend}")

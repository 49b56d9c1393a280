"""Issue #11 part 4's journey, the referrer's portal, at phone width (and desktop): a staff
member copies the portal link from 老王's record page (the clipboard has it); 老王
opens it on his phone, signs in with one tap, sees his code with its link and poster, copies
and shares it (the Web Share API), sees his friends masked and his reward with how it was
computed, and signs out; the used link then says so."""
from __future__ import annotations

import pytest

from runtime.jobs import dispatch
from tests.support.browser import DESKTOP, PHONE, SCREENSHOTS, LiveServer, screenshot, sign_in_page
from tests.support.portal import APP, install, populate
from tests.support.web import PASSWORD, add_user, make_app


@pytest.fixture(autouse=True)
def inline_jobs(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setattr(dispatch, "_down_until", {})


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_staff_copy_a_link_and_the_referrer_opens_their_portal(db, browser, open_page, viewport, request):
    install(db)
    programme = populate(db)
    add_user(db, "wang.staff", "王经理", is_admin=True)
    app = make_app(db)
    width, backend = viewport["width"], request.node.callspec.params.get("db_url", "db")

    def shot(page, name):
        page.evaluate("window.scrollTo(0, 0)")              # the sticky top bar at the top of the picture
        screenshot(page, f"portal-{name}-{width}-{backend}")
    with LiveServer(app) as server:
        staff = open_page(viewport)
        staff.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
        sign_in_page(staff, server.url, "wang.staff", PASSWORD)
        staff.goto(f"{server.url}/apps/{APP}/forms/customers/records/{programme.referrer}")
        panel = staff.locator("#referrals")
        assert "张三" in panel.inner_text() and "13812348000" in panel.inner_text()     # staff: unmasked
        panel.get_by_role("button", name="复制门户链接").click()
        out = staff.locator(".portal-link-out input")
        out.wait_for()
        link = out.input_value()
        assert link.startswith(f"{server.url}/portal/login/")
        assert staff.evaluate("navigator.clipboard.readText()") == link
        assert "链接已复制" in staff.locator(".portal-link-out [role=status]").inner_text()
        assert fits(staff)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        panel.evaluate("el => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 72)")
        staff.screenshot(path=str(SCREENSHOTS / f"portal-staff-panel-{width}-{backend}.png"))   # the viewport

        referrer = open_page(viewport)
        referrer.add_init_script("navigator.share = async (data) => { window.__shared = data; };")
        referrer.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
        referrer.goto(link)
        shot(referrer, "login")
        referrer.get_by_role("button", name="进入我的门户").click()
        referrer.wait_for_load_state()
        assert referrer.url == f"{server.url}/portal"
        assert "你好，老王" in referrer.locator("h1").inner_text()
        card = referrer.locator(f'.code-card[data-code="SPR-{programme.code}"]')
        assert card.locator(".code-link").input_value() == f"{server.url}/r/SPR-{programme.code}"
        assert card.get_by_role("link", name="海报").get_attribute("href") == \
            f"{server.url}/r/SPR-{programme.code}/poster.png"
        card.get_by_role("button", name="复制链接").click()
        assert referrer.evaluate("navigator.clipboard.readText()") == f"{server.url}/r/SPR-{programme.code}"
        card.get_by_role("button", name="分享").click()
        assert referrer.evaluate("window.__shared.url") == f"{server.url}/r/SPR-{programme.code}"

        friends = referrer.locator("#referral-list").inner_text()
        assert "张*" in friends and "138****8000" in friends and "李**" in friends and "137****1234" in friends
        page_text = referrer.locator("main").inner_text()
        assert not any(secret in page_text for secret in ("张三", "13812348000", "李四娘", "王五"))
        reward = referrer.locator("#reward-list [data-reward]").first
        assert "¥2,000.00" in reward.inner_text() and "冷静期中" in reward.inner_text()
        reward.get_by_text("计算方式").click()
        assert "规则“推荐人成交分成”" in reward.locator(".portal-explain p").inner_text()
        assert referrer.locator('#my-totals [data-total="earned"]').inner_text() == "¥2,000.00"
        assert fits(referrer)
        shot(referrer, "home")

        referrer.locator(".lang-switch button").click()
        referrer.wait_for_load_state()
        assert "Friends I referred" in referrer.locator("#my-referrals h2").inner_text()
        referrer.locator("#reward-list summary").first.click()
        assert "Rule \"Referrer's share of the first contract\"" in referrer.locator(".portal-explain p").first.inner_text()
        shot(referrer, "home-en")
        referrer.locator("#portal-signout").click()
        referrer.wait_for_load_state()
        assert referrer.locator("#portal-ask").count() == 1

        referrer.goto(link)                                     # used: it says so, and what to do
        refused = referrer.locator("#portal-refused")
        assert "has been used already" in refused.inner_text()
        assert fits(referrer)
        shot(referrer, "refused")

"""The sign-in journey at phone and desktop width: a wrong password shows the error,
the right one lands on the home page with the flagship's forms listed."""
from __future__ import annotations

import pytest

from tests.support.browser import DESKTOP, PHONE, screenshot, sign_in_page
from tests.support.web import PASSWORD, add_user, install_flagship


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_sign_in_journey(db, live_app, open_page, viewport, request):
    flagship = install_flagship(db)
    add_user(db)
    width = viewport["width"]
    backend = request.node.callspec.params.get("db_url", "db")
    page = open_page(viewport)

    page.goto(f"{live_app.url}/")
    assert page.url.startswith(f"{live_app.url}/login")
    screenshot(page, f"login-{width}-{backend}")

    sign_in_page(page, live_app.url, "li.lei", "wrong-password")
    error = page.locator("#login-error")
    assert error.is_visible() and "账号或密码不正确" in error.inner_text()
    assert page.input_value("input[name=account]") == "li.lei"
    screenshot(page, f"login-error-{width}-{backend}")

    sign_in_page(page, live_app.url, "li.lei", PASSWORD)
    assert page.url == f"{live_app.url}/"
    links = page.locator("a.form-card")
    assert links.count() == len(flagship.forms)
    assert [links.nth(i).get_attribute("href") for i in range(links.count())] == [
        f"/apps/crm_referral/forms/{form.key}" for form in flagship.forms]
    assert page.locator(".page-title").inner_text() == "你好，李雷"
    no_sideways_scroll = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert no_sideways_scroll
    screenshot(page, f"home-{width}-{backend}")

    page.click("details.user-menu summary")
    screenshot(page, f"menu-{width}-{backend}")
    page.click("text=退出登录")
    page.wait_for_load_state()
    assert page.url == f"{live_app.url}/login"


def test_language_switch_in_the_top_bar(db, live_app, open_page):
    add_user(db)
    page = open_page(DESKTOP)
    sign_in_page(page, live_app.url, "li.lei", PASSWORD)
    page.click("form.lang-switch button")
    page.wait_for_load_state()
    assert "Hello, 李雷" in page.locator(".page-title").inner_text()
    screenshot(page, "home-en-1280")

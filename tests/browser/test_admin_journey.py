"""An administrator adds a user with a department and a role, at phone and desktop
width, sees the generated password once, and finds the user among the role's members
and in the app's permission page."""
from __future__ import annotations

import pytest

from runtime.session import Session
from tests.support.browser import DESKTOP, PHONE, screenshot, sign_in_page
from tests.support.web import PASSWORD, add_user, install_flagship


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_an_admin_adds_a_user_with_a_role(db, live_app, open_page, viewport, request):
    width, backend = viewport["width"], request.node.callspec.params.get("db_url", "db")
    install_flagship(db)
    add_user(db, "admin", "管理员", is_admin=True)
    with Session(db).write() as uow:
        root = uow.org.departments.create("总部")
        uow.org.departments.create("销售部", parent=root.id)
        uow.org.roles.create("sales", "销售")
        uow.org.roles.create("sales_manager", "销售经理")
    page = open_page(viewport)
    sign_in_page(page, live_app.url, "admin", PASSWORD)
    page.click("details.user-menu summary")
    page.click("text=系统管理")
    page.wait_for_load_state()
    assert page.url.endswith("/admin/users")
    screenshot(page, f"admin-users-{width}-{backend}")

    page.click("text=添加用户")
    page.wait_for_load_state()
    page.fill("input[name=account]", "li.lei")       # first a mistake: a bad email
    page.fill("input[name=name]", "李雷")
    page.fill("input[name=email]", "li.lei@")
    page.evaluate("document.querySelector('#add-user').noValidate = true")
    page.select_option("select[name=department]", label="\u2003销售部")
    page.check("input[name=roles] >> nth=0")
    page.click("#add-user button[type=submit]")
    page.wait_for_load_state()
    assert page.locator('.field-error[data-field="email"]').is_visible()
    assert page.input_value("input[name=name]") == "李雷"
    screenshot(page, f"admin-user-error-{width}-{backend}")

    page.fill("input[name=email]", "li.lei@example.com")
    page.click("#add-user button[type=submit]")
    page.wait_for_load_state()
    password = page.locator("#new-password").inner_text()
    assert len(password) >= 12
    assert no_sideways_scroll(page)
    screenshot(page, f"admin-user-added-{width}-{backend}")

    page.click(".tabs >> text=角色")
    page.wait_for_load_state()
    page.click("table >> text=销售 >> nth=0")
    page.wait_for_load_state()
    assert "李雷" in page.locator(".member-list").inner_text()
    screenshot(page, f"admin-role-{width}-{backend}")

    page.goto(f"{live_app.url}/admin/departments")
    screenshot(page, f"admin-departments-{width}-{backend}")
    page.goto(f"{live_app.url}/admin/apps/crm_referral")
    assert "李雷" in page.locator("body").inner_text()
    screenshot(page, f"admin-app-permissions-{width}-{backend}")
    assert no_sideways_scroll(page)

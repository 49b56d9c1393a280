"""The form page in a browser at phone and desktop width: the flagship's customer form
filled with its widgets (an error seen, fixed, saved), and a subform row formula that
computes as you type (the desk app's orders)."""
from __future__ import annotations

import pytest

from tests.support.browser import DESKTOP, PHONE, screenshot, sign_in_page
from tests.support.forms_app import install_desk
from tests.support.web import PASSWORD, add_user, install_flagship

VIEWPORTS = pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])


def _backend(request):
    return "pg" if "postgres" in str(request.node.callspec.params.get("db", "")) else request.node.callspec.id


@VIEWPORTS
def test_fill_the_customer_form(db, live_app, open_page, viewport, request):
    install_flagship(db)
    add_user(db)
    width = viewport["width"]
    page = open_page(viewport)
    sign_in_page(page, live_app.url, "li.lei", PASSWORD)
    page.goto(f"{live_app.url}/apps/crm_referral/forms/customers/new")
    assert page.locator("[data-field=owner] .ts-control").is_visible()      # tom-select member picker
    screenshot(page, f"form-customers-new-{width}")

    page.fill("#f-phone", "12")                      # a bad phone: the engine says so, live
    page.wait_for_selector("#err-phone:not(:empty)")
    assert page.locator("[data-field=phone]").get_attribute("class").count("has-error") == 1
    with page.expect_navigation():
        page.click("form.record-form button[type=submit]")            # the name is required: every error at once
    assert page.locator("#err-name").inner_text() and page.locator("#err-phone").inner_text()
    assert page.input_value("#f-phone") == "12"      # the values kept
    screenshot(page, f"form-customers-errors-{width}")

    page.fill("#f-name", "上海明达科技")
    page.fill("#f-phone", "13812345678")
    page.select_option("[data-field=address] select[data-level=province]", label="广东省")
    page.wait_for_function("document.querySelector('[data-field=address] select[data-level=city]').options.length > 1")
    page.select_option("[data-field=address] select[data-level=city]", label="深圳市")
    page.wait_for_function("document.querySelector('[data-field=address] select[data-level=district]').options.length > 1")
    page.select_option("[data-field=address] select[data-level=district]", label="南山区")
    page.fill("[data-field=address] [data-part=detail]", "科技园 1 号")
    page.locator("[data-field=tags] .ts-control").click()
    page.locator(".ts-dropdown .option", has_text="高意向").first.click()
    page.keyboard.press("Escape")
    page.wait_for_selector("#err-phone:empty", state="attached")
    screenshot(page, f"form-customers-filled-{width}")
    page.click("form.record-form button[type=submit]")
    page.wait_for_url("**/apps/crm_referral/forms/customers/records/*")


@VIEWPORTS
def test_subform_row_formula_computes_as_you_type(db, live_app, open_page, viewport):
    install_desk(db)
    add_user(db)
    width = viewport["width"]
    page = open_page(viewport)
    sign_in_page(page, live_app.url, "li.lei", PASSWORD)
    page.goto(f"{live_app.url}/apps/desk/forms/orders/new")
    page.click("[data-field=items] [data-action=add-row]")
    row = page.locator("[data-field=items] tbody tr").first
    row.locator("[data-col=product]").fill("纸")
    row.locator("[data-col=quantity]").fill("3")
    row.locator("[data-col=unit_price]").fill("2.5")
    page.wait_for_function(
        "document.querySelector('[data-field=items] tbody [data-computed-col=line_total]').textContent.trim() === '7.50'")
    page.wait_for_function("document.querySelector('[data-computed=items_total]').textContent.includes('7.50')")
    page.fill("#f-qty", "12")                        # bulk_note appears (visible_if qty > 10)
    page.wait_for_selector("[data-field=bulk_note]:not([hidden])")
    screenshot(page, f"form-orders-subform-{width}")
    no_sideways_scroll = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert no_sideways_scroll


@VIEWPORTS
def test_every_widget_and_an_upload(db, live_app, open_page, viewport, tmp_path):
    install_desk(db)
    add_user(db)
    width = viewport["width"]
    page = open_page(viewport)
    sign_in_page(page, live_app.url, "li.lei", PASSWORD)
    page.goto(f"{live_app.url}/apps/desk/forms/everything/new")
    assert page.locator("[data-field=date] input.flatpickr-input").count() == 1
    pdf = tmp_path / "报价单.pdf"
    pdf.write_bytes(b"%PDF-1.4 quote")
    page.set_input_files("[data-field=attachment] input[type=file]", str(pdf))
    page.wait_for_selector("[data-field=attachment] .file-item a:has-text('报价单.pdf')")
    page.fill("#f-number", "5")
    page.wait_for_function("document.querySelector('[data-computed=formula]').textContent.trim() === '10.00'")
    screenshot(page, f"form-everything-{width}")
    no_sideways_scroll = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert no_sideways_scroll
    with page.expect_navigation():
        page.click("form.record-form button[type=submit]")
    assert "/apps/desk/forms/everything/records/" in page.url

"""The home page lists the installed apps and the forms the policy lets the user use."""
from __future__ import annotations

import re

from runtime.permissions import ROLE_POLICY, FormAccess
from runtime.session import Session
from tests.support.web import add_user, install_flagship, make_app, post_form, sign_in
from web.app import create_app


class OnlyCustomers:
    """A policy of the same interface as runtime/permissions: customers only (view), the
    rest nothing."""

    def access(self, app, form, actor):
        if form.key == "customers":
            return FormAccess(actions=frozenset({"view"}))
        return FormAccess(actions=frozenset())


def _form_links(html: str) -> list[str]:
    return re.findall(r'href="(/apps/[^"]+/forms/[^"]+)"', html)


def test_home_lists_every_form_of_the_flagship(db, client, user_id):
    app_def = install_flagship(db)
    sign_in(client)
    html = client.get("/").get_data(as_text=True)
    assert _form_links(html) == [f"/apps/crm_referral/forms/{f.key}" for f in app_def.forms]
    assert app_def.label.zh in html
    for form in app_def.forms:
        assert form.label.zh in html


def test_home_in_english_shows_english_labels(db, client, user_id):
    app_def = install_flagship(db)
    sign_in(client)
    post_form(client, "/lang", {"lang": "en"})
    html = client.get("/").get_data(as_text=True)
    assert app_def.forms[0].label.en in html and app_def.label.en in html


def test_home_asks_the_policy_for_each_form(db, user_id):
    install_flagship(db)
    app = make_app(db, FORMWORK_POLICY=OnlyCustomers())
    client = app.test_client()
    sign_in(client)
    assert _form_links(client.get("/").get_data(as_text=True)) == ["/apps/crm_referral/forms/customers"]
    app.extensions["formwork"].engine.dispose()


def test_home_without_apps_says_so(client, user_id):
    sign_in(client)
    assert "你还没有可用的表单" in client.get("/").get_data(as_text=True)


def test_the_role_policy_is_the_default_and_lists_what_a_role_may_use(db):
    """Without FORMWORK_POLICY the app asks the permission sets of the definition: no role,
    no form; a salesperson the sales forms; a workspace administrator every form."""
    app_def = install_flagship(db)
    add_user(db, "nobody", "无角色")
    add_user(db, "boss", "管理员", is_admin=True)
    seller = add_user(db, "seller", "销售")
    with Session(db).write() as uow:
        uow.org.roles.create("sales", "销售")
        uow.org.roles.assign("sales", [seller])
    app = create_app({"DATABASE_URL": db.url.render_as_string(hide_password=False), "SECRET_KEY": "test-secret",
                      "TESTING": True, "FORMWORK_SIGN_IN_DELAY": 0})
    assert app.extensions["formwork"].policy is ROLE_POLICY

    def links(account):
        client = app.test_client()
        sign_in(client, account)
        return _form_links(client.get("/").get_data(as_text=True))
    assert links("nobody") == []
    assert links("boss") == [f"/apps/crm_referral/forms/{f.key}" for f in app_def.forms]
    sales_forms = links("seller")
    assert "/apps/crm_referral/forms/customers" in sales_forms
    assert "/apps/crm_referral/forms/payments" not in sales_forms
    app.extensions["formwork"].engine.dispose()

"""The form page through Flask's test client (SQLite and PostgreSQL): a widget for
every field kind, the live draft, saving (success, every error beside its field with
the values kept), editing with the optimistic version, hidden fields, pickers."""
from __future__ import annotations

import json

from runtime.forms.widgets import describe_form
from runtime.session import Session
from tests.support.form_pages import HidingPolicy, errors_of, page_url, post_page
from tests.support.web import add_user, csrf_from, make_app, sign_in

# What each widget kind renders (templates/forms/_widgets.html), beside data-kind.
MARKERS = {
    "text": 'name="text" type="text"', "textarea": '<textarea id="f-textarea" name="textarea"',
    "address": 'data-widget="address"', "radio": 'type="radio" name="radio"',
    "select": 'data-widget="select"', "checkbox": 'type="checkbox" name="checkbox"',
    "multiselect": 'data-widget="multiselect"', "number": 'inputmode="decimal"',
    "money": '<span class="affix-text">元</span>', "percent": '<span class="affix-text">%</span>',
    "formula": 'data-computed="formula"', "rollup": 'data-computed="rollup"', "phone": 'type="tel"',
    "email": 'type="email"', "url": 'type="url"', "id-card": 'autocapitalize="characters"',
    "attachment": 'accept=".pdf"', "image": 'accept="image/*"', "signature": '<canvas class="signature-pad"',
    "location": 'data-action="locate"', "member": 'data-kind="member"', "members": 'data-kind="members"',
    "department": 'data-kind="department"', "departments": 'data-kind="departments"',
    "relation": '/pick/records/relation"', "lookup": 'data-computed="lookup"', "subform": 'data-widget="subform"',
    "serial": 'data-computed="serial"', "switch": 'class="switch"', "rating": 'class="rating"',
    "date": 'data-widget="date"', "datetime": 'data-widget="datetime"',
}


def test_every_widget_kind_is_rendered(db, signed_in):
    page = signed_in.get(page_url("everything"))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    with Session(db).read() as uow:
        fields = describe_form(uow, "desk", "everything")["fields"]
    kinds = {f["kind"] for f in fields}
    assert kinds <= MARKERS.keys(), f"a kind without a widget test: {kinds - MARKERS.keys()}"
    for f in fields:
        assert f'data-field="{f["key"]}" data-kind="{f["kind"]}"' in html, f["key"]
        assert MARKERS[f["kind"]] in html, f["kind"]
    assert 'data-max-bytes="5242880"' in html and 'data-max-files="3"' in html   # the attachment's limits
    assert 'data-min="2020-01-01"' in html
    # The default of the current user is shown in the member picker, with the name.
    assert '<option value="' in html and ">李雷</option>" in html


def test_the_draft_computes_defaults_formulas_rows_and_visibility(signed_in):
    items = json.dumps([{"product": "纸", "quantity": "2", "unit_price": "3.5"}])
    answer = post_page(signed_in, "/apps/desk/forms/orders/draft",
                       {"qty": "12", "items": items, "_touched": ["qty", "items"], "_changed": "qty"})
    assert answer.status_code == 200
    draft = answer.get_json()
    assert draft["changed"] == "qty"
    assert draft["values"]["price"] == "10.00" and draft["values"]["amount"] == "120.00"
    assert draft["values"]["items"] == [{"line_total": "7.00"}] and draft["values"]["items_total"] == "7.00"
    assert draft["visible"] == {"bulk_note": True}
    assert draft["messages"]["title"] == ["此项为必填项"] and "bulk_note" in draft["messages"]


def test_the_draft_refuses_bad_input_as_issues_not_errors(signed_in):
    answer = post_page(signed_in, "/apps/desk/forms/orders/draft",
                       {"qty": "many", "items": "{not json", "_touched": ["qty", "items"]})
    assert answer.status_code == 200
    assert {"qty", "items"} <= answer.get_json()["issues"].keys()


def test_the_page_shows_defaults_and_hides_conditional_fields(signed_in):
    html = signed_in.get(page_url()).get_data(as_text=True)
    assert 'name="price" type="text" value="10.00"' in html
    assert 'data-field="bulk_note" data-kind="textarea" hidden' in html


def test_save_redirects_to_the_record_page(db, signed_in):
    items = json.dumps([{"product": "纸", "quantity": "2", "unit_price": "3.5"}])
    answer = post_page(signed_in, page_url(), {"title": "第一单", "qty": "3", "price": "10", "items": items})
    assert answer.status_code == 303
    with Session(db).read() as uow:
        record_id = uow.records("desk").list("orders").records[0]["id"]
        record = uow.records("desk").get("orders", record_id)
    assert answer.headers["Location"] == f"/apps/desk/forms/orders/records/{record_id}"
    assert str(record["fields"]["amount"]) == "30.00" and str(record["fields"]["items_total"]) == "7.00"


def test_a_refused_save_shows_every_error_beside_its_field_and_keeps_the_values(db, signed_in):
    items = json.dumps([{"product": "", "quantity": "0"}])
    answer = post_page(signed_in, page_url(), {"title": "", "qty": "12", "items": items, "internal": "保留我"})
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    errors = errors_of(html)
    assert {"title", "bulk_note", "items[0].product", "items[0].quantity"} <= errors.keys()
    assert errors["title"] == "此项为必填项"
    assert 'name="qty" type="text" value="12"' in html and 'value="保留我"' in html
    assert 'data-col="quantity" aria-label="数量" value="0"' in html
    assert 'data-field="bulk_note" data-kind="textarea" >' in html or 'data-field="bulk_note" data-kind="textarea">' in html
    with Session(db).read() as uow:
        assert uow.records("desk").list("orders").records == []


def test_edit_saves_with_the_version_and_a_conflict_says_so(db, signed_in):
    session = Session(db)
    record = session.write(lambda uow: uow.records("desk").create("orders", {"title": "原单", "qty": "1"}))
    edit = f"/apps/desk/forms/orders/records/{record['id']}/edit"
    html = signed_in.get(edit).get_data(as_text=True)
    assert 'name="version" value="1"' in html and 'value="原单"' in html
    saved = post_page(signed_in, edit, {"title": "改过", "qty": "2", "version": "1"}, token_from=edit)
    assert saved.status_code == 303 and saved.headers["Location"].endswith(f"/records/{record['id']}")
    stale = post_page(signed_in, edit, {"title": "又改", "qty": "5", "version": "1"}, token_from=edit)
    assert stale.status_code == 409
    html = stale.get_data(as_text=True)
    assert 'id="form-errors" role="alert" >' in html or 'id="form-errors" role="alert">' in html
    assert 'value="又改"' in html                       # what was typed is kept
    with Session(db).read() as uow:
        assert uow.records("desk").get("orders", record["id"])["fields"]["title"] == "改过"


def test_edit_of_a_record_that_does_not_exist_is_404(signed_in):
    assert signed_in.get("/apps/desk/forms/orders/records/999/edit").status_code == 404


def test_hidden_fields_are_not_in_the_html(db, desk, user_id):
    app = make_app(db, FORMWORK_POLICY=HidingPolicy({"orders": {"internal", "credit_left"}}))
    client = app.test_client()
    sign_in(client)
    html = client.get(page_url()).get_data(as_text=True)
    assert "internal" not in html and "内部" not in html and "credit_left" not in html and "剩余额度" not in html
    draft = post_page(client, "/apps/desk/forms/orders/draft", {"qty": "1", "_touched": ["qty"]}).get_json()
    assert "credit_left" not in json.dumps(draft)
    refused = post_page(client, page_url(), {"title": "x", "internal": "sneaky"})
    assert refused.status_code == 303                      # a hidden key is not read from the post
    app.extensions["formwork"].engine.dispose()


def test_a_user_who_may_only_view_gets_403_on_the_new_page(db, desk, user_id):
    app = make_app(db, FORMWORK_POLICY=HidingPolicy(view_only={"orders"}))
    client = app.test_client()
    sign_in(client)
    assert client.get(page_url()).status_code == 403
    assert post_page(client, page_url(), {"title": "x"}, token_from="/").status_code == 403
    app.extensions["formwork"].engine.dispose()


def test_anonymous_visitors_are_sent_to_sign_in(client, desk):
    answer = client.get(page_url())
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_pickers(db, signed_in):
    add_user(db, "han.mei", "韩梅梅")
    session = Session(db)
    session.write(lambda uow: uow.records("desk").create("customers", {"name": "明达科技"}))
    members = signed_in.get("/apps/desk/forms/orders/pick/members?q=han").get_json()
    assert [m["name"] for m in members["members"]] == ["韩梅梅"]
    records = signed_in.get("/apps/desk/forms/orders/pick/records/customer?q=明达").get_json()
    assert [r["title"] for r in records["records"]] == ["明达科技"]
    cities = signed_in.get("/apps/desk/forms/orders/pick/divisions?province=440000").get_json()
    assert "深圳市" in [c["name"] for c in cities["children"]]
    assert signed_in.get("/apps/desk/forms/orders/pick/records/title").status_code == 400
    assert signed_in.get("/apps/desk/forms/orders/pick/departments").get_json() == {"departments": []}


def test_english_page(signed_in):
    signed_in.post("/lang", data={"lang": "en", "csrf_token": csrf_from(signed_in, "/")})
    html = signed_in.get(page_url()).get_data(as_text=True)
    assert "New: Orders" in html and ">Save</button>" in html


def test_a_lookup_of_a_choice_shows_its_label(db, signed_in):
    session = Session(db)
    customer = session.write(lambda uow: uow.records("desk").create("customers", {"name": "明达", "level": "vip"}))
    order = session.write(lambda uow: uow.records("desk").create(
        "orders", {"title": "x", "customer": customer["id"]}))
    html = signed_in.get(f"/apps/desk/forms/orders/records/{order['id']}/edit").get_data(as_text=True)
    assert ">重要客户</output>" in html
    assert '"label": "\\u91cd\\u8981\\u5ba2\\u6237"' in html or '"label": "重要客户"' in html   # for the script

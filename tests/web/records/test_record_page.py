"""The record page: fields with display values, subform rows, related tabs with counts,
history after an edit, comments (escaped), delete to the recycle bin and restore; 404
for a record outside the user's scope, 403 for a missing action, both as clear pages."""
from __future__ import annotations

from runtime.permissions import FULL, FULL_ACCESS, FormAccess
from tests.support.table_pages import XSS, add_customers, crm_site, post_json, signed_in
from tests.support.web import csrf_from, make_app

BASE = "/apps/crm/forms/customers"


def page_of(client, path: str) -> str:
    answer = client.get(path)
    assert answer.status_code == 200, answer.get_data(as_text=True)[-2000:]
    return answer.get_data(as_text=True)


def with_orders(crm):
    customer = add_customers(crm, [{"name": "上海明达", "level": "vip", "owner": crm.li.user_id,
                                    "dept": crm.dept_id, "credit": 100}])[0]
    with crm.engine.begin() as conn:
        records = crm.records(conn, crm.li, policy=FULL_ACCESS)
        records.create("orders", {"title": "服务器采购", "customer": customer["id"],
                                  "items": [{"product": "服务器", "qty": 2}, {"product": "交换机", "qty": 1}]})
        records.create("orders", {"title": "续保", "customer": customer["id"]})
        records.update("customers", customer["id"], {"level": "normal", "credit": 250})
    return customer


def test_fields_tabs_and_history(db):
    app, crm = crm_site(db)
    customer = with_orders(crm)
    client = signed_in(app)
    page = page_of(client, f"{BASE}/records/{customer['id']}")
    assert "上海明达" in page and "普通客户" in page and "李雷" in page and "华东销售部" in page
    assert 'data-tab="orders.customer"' in page and ">2</span>" in page
    assert "服务器采购" in page and "续保" in page
    history = page.split('id="history"')[1].split('id="comments"')[0]
    assert "重要客户" in history and "普通客户" in history and "250" in history and "100" in history
    assert "修改" in history and "李雷" in history
    assert f'href="{BASE}/records/{customer["id"]}/edit"' in page
    order = page_of(client, "/apps/crm/forms/orders/records/1")
    assert "交换机" in order and 'data-subform="items"' in order and "上海明达" in order
    assert f'href="{BASE}/records/{customer["id"]}"' in order        # the relation links to the customer
    assert client.get(f"{BASE}/records/{customer['id']}/history.json").get_json()["history"][0]["version"] == 2
    related = client.get(f"{BASE}/records/{customer['id']}/related.json?tab=orders.customer").get_json()
    assert sorted(r["display"]["title"] for r in related["rows"]) == ["服务器采购", "续保"]
    assert client.get(f"{BASE}/records/{customer['id']}/related.json?tab=orders.nope").status_code == 404


def test_comments_are_added_and_escaped(db):
    app, crm = crm_site(db)
    customer = add_customers(crm, [{"name": XSS[0], "note": XSS[1]}])[0]
    client = signed_in(app)
    path = f"{BASE}/records/{customer['id']}"
    for body in XSS:
        token = csrf_from(client, path)
        assert client.post(f"{path}/comments", data={"body": body, "csrf_token": token}).status_code == 302
    with crm.engine.begin() as conn:
        crm.records(conn, crm.li, policy=FULL_ACCESS).update("customers", customer["id"], {"name": XSS[1]})
    page = page_of(client, path)
    assert "<script>alert(1)</script>" not in page and "<img src=x" not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 3     # comment, history from, note
    assert "{{7*7}}" in page and ">49<" not in page
    listed = client.get(f"{path}/comments.json").get_json()["comments"]
    assert [c["body"] for c in listed] == list(reversed(XSS))
    empty = post_json(client, f"{path}/comments", {"body": "  "})
    assert empty.status_code == 400 and empty.get_json()["error"]["details"]["reason"] == "comment_empty"


def test_delete_to_the_recycle_bin_and_restore(db):
    app, crm = crm_site(db)
    customer = add_customers(crm, [{"name": "要删除的客户"}])[0]
    client = signed_in(app)
    path = f"{BASE}/records/{customer['id']}"
    token = csrf_from(client, path)
    assert client.post(f"{path}/delete").status_code == 400          # no CSRF token
    gone = client.post(f"{path}/delete", data={"csrf_token": token})
    assert gone.status_code == 302 and gone.headers["Location"].endswith(BASE)
    assert "回收站" in page_of(client, BASE)
    assert client.get(path).status_code == 404
    trash = page_of(client, f"{BASE}/trash")
    assert "要删除的客户" in trash and "李雷" in trash
    token = csrf_from(client, f"{BASE}/trash")
    client.post(f"{BASE}/restore", data={"ids": [str(customer["id"])], "csrf_token": token})
    assert "要删除的客户" in page_of(client, path)
    assert "要删除的客户" not in page_of(client, f"{BASE}/trash")


def test_another_users_record_is_404_and_hidden_fields_absent(db):
    app, crm = crm_site(db, salesperson=True)
    mine = add_customers(crm, [{"name": "李的客户", "note": "SECRET-NOTE"}])[0]
    theirs = add_customers(crm, [{"name": "韩的客户"}], actor=crm.han)[0]
    client = signed_in(app)
    page = page_of(client, f"{BASE}/records/{mine['id']}")
    assert "SECRET-NOTE" not in page and "备注" not in page
    assert "SECRET-NOTE" not in client.get(f"{BASE}/records/{mine['id']}/record.json").get_data(as_text=True)
    assert "SECRET-NOTE" not in client.get(f"{BASE}/records/{mine['id']}/history.json").get_data(as_text=True)
    for path in ("", "/history.json", "/comments.json", "/record.json", "/related.json"):
        answer = client.get(f"{BASE}/records/{theirs['id']}{path}")
        assert answer.status_code == 404, path
    missing = client.get(f"{BASE}/records/{theirs['id']}")
    assert "找不到" in missing.get_data(as_text=True) or "不存在" in missing.get_data(as_text=True)
    token = csrf_from(client, f"{BASE}/records/{mine['id']}")
    assert client.post(f"{BASE}/records/{theirs['id']}/delete", data={"csrf_token": token}).status_code == 404
    assert post_json(client, f"{BASE}/records/{theirs['id']}/comments", {"body": "hi"}).status_code == 404


class ViewOnly:
    """Customers may be viewed, not deleted or edited."""

    def access(self, app, form, actor):
        if form.key != "customers":
            return FULL
        return FormAccess.limited(form, actions={"view"})


def test_a_missing_action_is_403_with_a_clear_page(db):
    app, crm = crm_site(db)
    customer = add_customers(crm, [{"name": "只读客户"}])[0]
    viewer = make_app(db, FORMWORK_POLICY=ViewOnly())
    client = signed_in(viewer)
    path = f"{BASE}/records/{customer['id']}"
    page = page_of(client, path)
    assert "只读客户" in page and f"{path}/delete" not in page and f"{path}/edit" not in page
    token = csrf_from(client, path)
    refused = client.post(f"{path}/delete", data={"csrf_token": token})
    assert refused.status_code == 403 and "Traceback" not in refused.get_data(as_text=True)
    assert "删除" in refused.get_data(as_text=True)
    assert client.get(f"{BASE}/trash").status_code == 403
    assert post_json(client, f"{BASE}/bulk/delete", {"ids": [customer["id"]]}).status_code == 403

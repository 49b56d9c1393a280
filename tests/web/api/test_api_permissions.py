"""The API answers only what the caller's policy allows (a custom Policy with row scopes
and hidden fields, as the role-based one gives): another user's record is 404 on every
endpoint, a hidden field is in no answer and not in the caller's document, a missing
action is 403."""
from __future__ import annotations

import json

import pytest

from runtime.permissions import CREATE, VIEW
from tests.support.web import add_user
from tests.support.web_api import CONTACTS, CUSTOMERS, OwnRowsPolicy, api_key, api_world, assert_answer_matches

CUSTOMER = {"name": "杭州云栖书店", "kind": "企业", "phone": "13812345678", "remark": "老客户"}


@pytest.fixture
def scoped(db):
    made = api_world(db, FORMWORK_API_RATE="off",
                     FORMWORK_POLICY=OwnRowsPolicy(hidden={"customers": {"phone"}},
                                                   actions={"contacts": {VIEW, CREATE}}))
    yield made
    made.dispose()


def _texts(*answers) -> str:
    return " ".join(answer.get_data(as_text=True) for answer in answers)


def test_another_users_record_is_404_on_every_endpoint(scoped):
    theirs = scoped.create({"name": "韩家客户", "kind": "个人"}, who="han")
    url = f"{CUSTOMERS}/{theirs['id']}"
    li = scoped.headers("li")
    answers = [scoped.client.get(url, headers=li),
               scoped.client.patch(url, json={"remark": "x"}, headers=li),
               scoped.client.delete(url, headers=li),
               scoped.client.post(url + "/restore", headers=li),
               scoped.client.get(url + "/history", headers=li),
               scoped.client.get(url + "/related/contacts.customer", headers=li)]
    assert [a.status_code for a in answers] == [404] * 6
    assert all(a.json["error"]["code"] == "not_found" for a in answers)
    assert "韩家客户" not in _texts(*answers)
    assert scoped.client.get(CUSTOMERS, headers=li).json["items"] == []
    assert [r["id"] for r in scoped.client.get(CUSTOMERS, headers=scoped.headers("han")).json["items"]] == [theirs["id"]]
    assert scoped.client.get(url, headers=scoped.headers("han")).json["fields"]["remark"] is None


def test_related_lists_only_the_callers_rows_of_the_source_form(scoped):
    customer = scoped.create({"name": "共同客户", "kind": "企业"}, who="li")
    scoped.create({"name": "李的联系人", "customer": customer["id"]}, who="li", form="contacts")
    url = f"{CUSTOMERS}/{customer['id']}/related/contacts.customer"
    assert scoped.client.get(url, headers=scoped.headers("li")).json["count"]["value"] == 1
    # han cannot see the customer: the tab is 404 even though the relation exists
    assert scoped.client.get(url, headers=scoped.headers("han")).status_code == 404


def test_a_hidden_field_is_in_no_answer(scoped):
    doc = scoped.document("li")
    li = scoped.headers("li")
    created = scoped.client.post(CUSTOMERS, json={k: v for k, v in CUSTOMER.items() if k != "phone"}, headers=li)
    assert created.status_code == 201
    url = f"{CUSTOMERS}/{created.json['id']}"
    answers = [created, scoped.client.get(url, headers=li), scoped.client.get(CUSTOMERS, headers=li),
               scoped.client.patch(url, json={"remark": "改"}, headers=li),
               scoped.client.get(url + "/history", headers=li),
               scoped.client.post(CUSTOMERS, json=[{"name": "第二家", "kind": "个人"}], headers=li)]
    assert all(a.status_code in (200, 201) for a in answers)
    for answer in answers[:4]:
        record = answer.json["items"][0] if "items" in answer.json else answer.json
        assert "phone" not in record["fields"]
    assert all("phone" not in entry["changes"] for entry in answers[4].json["items"])
    assert "phone" not in answers[5].json["items"][0]["fields"]
    assert_answer_matches(doc, "crm_referral.customers.Record", answers[1])
    assert "phone" not in doc["components"]["schemas"]["crm_referral.customers.Fields"]["properties"]
    scoped.keys["boss"] = api_key(scoped.engine, add_user(scoped.engine, "boss", "老板", is_admin=True))
    admin_doc = scoped.document("boss")
    assert "phone" in admin_doc["components"]["schemas"]["crm_referral.customers.Fields"]["properties"]
    assert scoped.client.get(url, headers=scoped.headers("boss")).json["fields"]["phone"] is None


def test_writing_filtering_or_sorting_by_a_hidden_field_is_refused(scoped):
    li = scoped.headers("li", **{"Accept-Language": "en"})
    written = scoped.client.post(CUSTOMERS, json=CUSTOMER, headers=li)
    assert written.status_code == 422
    assert {(f["field"], f["code"]) for f in written.json["error"]["fields"]} == {("phone", "permission_read_only")}
    assert "13812345678" not in written.get_data(as_text=True)
    filtered = scoped.client.get(CUSTOMERS, query_string={"filter": json.dumps({"field": "phone", "op": "eq", "value": "1"})},
                                 headers=li)
    assert filtered.status_code == 403 and filtered.json["error"]["code"] == "permission_denied"
    assert scoped.client.get(CUSTOMERS, query_string={"sort": "phone"}, headers=li).status_code == 403


def test_an_action_the_caller_lacks_is_403_and_not_in_its_document(scoped):
    customer = scoped.create({"name": "客户", "kind": "企业"})
    contact = scoped.create({"name": "联系人", "customer": customer["id"]}, form="contacts")
    url = f"{CONTACTS}/{contact['id']}"
    li = scoped.headers("li", **{"Accept-Language": "en"})
    for answer in (scoped.client.patch(url, json={"name": "改"}, headers=li), scoped.client.delete(url, headers=li)):
        assert answer.status_code == 403
        assert answer.json["error"]["code"] == "permission_denied" and "contacts" in answer.json["error"]["message"]
    doc = scoped.document("li")
    item = doc["paths"][f"{CONTACTS}/{{id}}"]
    assert "get" in item and "patch" not in item and "delete" not in item
    assert f"{CONTACTS}/{{id}}/restore" not in doc["paths"]

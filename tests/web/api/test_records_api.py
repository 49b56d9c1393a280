"""The record endpoints, happy paths: list, create one or many, read with its ETag,
change with the version in If-Match or the body, delete to the recycle bin, restore,
history, related records; every answer valid against the caller's OpenAPI document."""
from __future__ import annotations

import json

from tests.support.web import csrf_from, sign_in
from tests.support.web_api import CONTACTS, CUSTOMERS, assert_answer_matches

CUSTOMER = {"name": "杭州云栖书店", "kind": "企业", "phone": "13812345678", "level": "Key account"}


def test_create_one_is_201_with_its_etag_and_location(world):
    doc = world.document()
    answer = world.client.post(CUSTOMERS, json=CUSTOMER, headers=world.headers())
    assert answer.status_code == 201
    assert_answer_matches(doc, "crm_referral.customers.Record", answer)
    record = answer.json
    assert record["fields"]["name"] == "杭州云栖书店" and record["fields"]["kind"] == "company"
    assert record["created_by"] == world.users["li"] and record["version"] == 1
    assert answer.headers["ETag"] == '"1"'
    assert answer.headers["Location"].endswith(f"{CUSTOMERS}/{record['id']}")
    again = world.client.get(answer.headers["Location"], headers=world.headers())
    assert again.status_code == 200 and again.json == record and again.headers["ETag"] == '"1"'


def test_create_a_list_is_all_or_nothing_and_keeps_the_order(world):
    doc = world.document()
    rows = [{"name": f"客户{i}", "kind": "个人"} for i in range(5)]
    answer = world.client.post(CUSTOMERS, json=rows, headers=world.headers())
    assert answer.status_code == 201
    assert_answer_matches(doc, "crm_referral.customers.List", answer)
    assert [r["fields"]["name"] for r in answer.json["items"]] == [r["name"] for r in rows]
    refused = world.client.post(CUSTOMERS, json=[{"name": "好的", "kind": "个人"}, {"kind": "个人"}],
                                headers=world.headers())
    assert refused.status_code == 422
    assert_answer_matches(doc, "Error", refused)
    assert [(f["record"], f["field"], f["code"]) for f in refused.json["error"]["fields"]] == [(1, "name", "required")]
    listed = world.client.get(CUSTOMERS + "?count=exact", headers=world.headers()).json
    assert listed["count"] == {"value": 5, "kind": "exact"}      # nothing of the refused list was written


def test_list_filters_sorts_searches_and_pages_with_the_cursor(world):
    doc = world.document()
    world.client.post(CUSTOMERS, json=[{"name": f"客户{i:02}", "kind": "企业", "level": "vip" if i % 2 else "normal"}
                                       for i in range(7)], headers=world.headers())
    vip = json.dumps({"field": "level", "op": "eq", "value": "vip"})
    first = world.client.get(CUSTOMERS, query_string={"filter": vip, "sort": "-name", "limit": 2},
                             headers=world.headers())
    assert first.status_code == 200
    assert_answer_matches(doc, "crm_referral.customers.Page", first)
    assert [r["fields"]["name"] for r in first.json["items"]] == ["客户05", "客户03"]
    assert first.json["count"] == {"value": 3, "kind": "exact"}
    second = world.client.get(CUSTOMERS, query_string={"filter": vip, "sort": "-name", "limit": 2,
                                                       "cursor": first.json["next_cursor"]}, headers=world.headers())
    assert [r["fields"]["name"] for r in second.json["items"]] == ["客户01"]
    assert second.json["next_cursor"] is None and second.json["count"] is None    # later pages: no count
    found = world.client.get(CUSTOMERS, query_string={"search": "客户04", "count": "none"}, headers=world.headers())
    assert [r["fields"]["name"] for r in found.json["items"]] == ["客户04"] and found.json["count"] is None
    estimate = world.client.get(CUSTOMERS, query_string={"count": "estimate", "limit": 1}, headers=world.headers())
    assert estimate.json["count"] == {"value": 7, "kind": "exact"}


def test_patch_changes_only_the_fields_given_with_the_version_in_if_match_or_the_body(world):
    doc = world.document()
    record = world.create(CUSTOMER)
    url = f"{CUSTOMERS}/{record['id']}"
    changed = world.client.patch(url, json={"level": "normal"}, headers=world.headers(**{"If-Match": '"1"'}))
    assert changed.status_code == 200
    assert_answer_matches(doc, "crm_referral.customers.Record", changed)
    assert changed.json["fields"]["level"] == "normal" and changed.json["fields"]["phone"] == "13812345678"
    assert changed.headers["ETag"] == '"2"'
    again = world.client.patch(url, json={"remark": "改为普通客户", "version": 2}, headers=world.headers())
    assert again.status_code == 200 and again.json["version"] == 3 and again.json["fields"]["remark"] == "改为普通客户"


def test_delete_moves_to_the_recycle_bin_and_restore_brings_it_back(world):
    doc = world.document()
    record = world.create(CUSTOMER)
    url = f"{CUSTOMERS}/{record['id']}"
    deleted = world.client.delete(url, headers=world.headers())
    assert deleted.status_code == 204 and deleted.data == b""
    assert world.client.get(url, headers=world.headers()).status_code == 404
    binned = world.client.get(CUSTOMERS + "?deleted=true", headers=world.headers()).json
    assert [r["id"] for r in binned["items"]] == [record["id"]] and binned["items"][0]["deleted_at"]
    restored = world.client.post(url + "/restore", headers=world.headers())
    assert restored.status_code == 200
    assert_answer_matches(doc, "crm_referral.customers.Record", restored)
    assert restored.json["deleted_at"] is None and restored.headers["ETag"] == f'"{restored.json["version"]}"'
    assert world.client.get(url, headers=world.headers()).status_code == 200


def test_history_lists_every_change_oldest_first(world):
    doc = world.document()
    record = world.create(CUSTOMER)
    url = f"{CUSTOMERS}/{record['id']}"
    world.client.patch(url, json={"level": "normal", "version": 1}, headers=world.headers())
    world.client.delete(url, headers=world.headers())
    history = world.client.get(url + "/history", headers=world.headers())
    assert history.status_code == 200
    assert_answer_matches(doc, "History", history)
    entries = history.json["items"]
    assert [e["action"] for e in entries] == ["create", "update", "delete"]
    assert entries[1]["changes"]["level"]["to"] == "normal" and entries[1]["changes"]["level"]["from"] != "normal"
    assert all(e["user_id"] == world.users["li"] for e in entries)


def test_related_lists_the_records_pointing_at_it(world):
    doc = world.document()
    customer = world.create(CUSTOMER)
    other = world.create({"name": "别家", "kind": "个人"})
    for name, target in (("王经理", customer), ("赵总", customer), ("孙工", other)):
        world.create({"name": name, "customer": target["id"]}, form="contacts")
    url = f"{CUSTOMERS}/{customer['id']}/related/contacts.customer"
    related = world.client.get(url, query_string={"sort": "name"}, headers=world.headers())
    assert related.status_code == 200
    assert_answer_matches(doc, "crm_referral.contacts.Page", related)
    assert sorted(r["fields"]["name"] for r in related.json["items"]) == ["王经理", "赵总"]
    assert related.json["count"] == {"value": 2, "kind": "exact"}
    narrowed = world.client.get(url, query_string={"filter": json.dumps({"field": "name", "op": "eq", "value": "赵总"})},
                                headers=world.headers())
    assert [r["fields"]["name"] for r in narrowed.json["items"]] == ["赵总"]
    unknown = world.client.get(f"{CUSTOMERS}/{customer['id']}/related/contacts.custom", headers=world.headers())
    assert unknown.status_code == 404 and "contacts.customer" in unknown.json["error"]["message_en"]
    assert world.client.get(f"{CONTACTS}?limit=1", headers=world.headers()).status_code == 200


def test_a_session_with_its_csrf_token_works_like_a_key(world):
    client = world.app.test_client()
    sign_in(client)
    token = csrf_from(client, "/")
    created = client.post(CUSTOMERS, json=CUSTOMER, headers={"X-CSRF-Token": token})
    assert created.status_code == 201 and created.json["created_by"] == world.users["li"]
    assert client.get(CUSTOMERS).status_code == 200

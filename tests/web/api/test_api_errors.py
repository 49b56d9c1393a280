"""Every refusal of the API in its one error shape (runtime.api.errors), valid against the
document's Error schema: bad parameters with where they are wrong, unknown app or form,
wrong values in zh and en, a stale version, no or a bad key, a session without its CSRF
token, a body over 2 MB, the wrong method."""
from __future__ import annotations

import json

import pytest

from runtime.auth import ApiKeys
from tests.support.web import sign_in
from tests.support.web_api import CUSTOMERS, assert_answer_matches, bearer

CUSTOMER = {"name": "杭州云栖书店", "kind": "企业"}


def test_filter_that_is_not_json_says_line_and_column(world):
    doc = world.document()
    answer = world.client.get(CUSTOMERS, query_string={"filter": '{"field":"level","op":"eq","value":vip}'},
                              headers=world.headers())
    assert answer.status_code == 400
    assert_answer_matches(doc, "Error", answer)
    issue = answer.json["error"]["fields"][0]
    assert (issue["field"], issue["code"], issue["line"], issue["column"]) == ("filter", "api_filter_json", 1, 36)


def test_filter_on_a_field_that_is_not_there_says_where(world):
    answer = world.client.get(CUSTOMERS, query_string={"filter": json.dumps({"field": "levle", "op": "eq", "value": 1})},
                              headers=world.headers(**{"Accept-Language": "en"}))
    assert answer.status_code == 400
    issue = answer.json["error"]["fields"][0]
    assert issue["field"] == "filter" and issue["path"].startswith("filter") and "level" in issue["message"]


@pytest.mark.parametrize("limit", ["0", "501", "-1", "ten"])
def test_limit_outside_1_to_500_is_refused(world, limit):
    answer = world.client.get(CUSTOMERS, query_string={"limit": limit}, headers=world.headers())
    assert answer.status_code == 400
    assert answer.json["error"]["fields"][0]["field"] == "limit"
    assert answer.json["error"]["fields"][0]["params"] == {"max": 500, "value": limit}


def test_bad_count_sort_and_unknown_parameter_are_reported_together(world):
    answer = world.client.get(CUSTOMERS, query_string={"count": "all", "sort": "name;drop", "limt": "5"},
                              headers=world.headers())
    assert answer.status_code == 400
    by_field = {f["field"]: f for f in answer.json["error"]["fields"]}
    assert set(by_field) == {"count", "sort", "limt"} and "'limit'?" in by_field["limt"]["message_en"]


def test_unknown_app_form_and_record_are_404(world):
    doc = world.document()
    for path in ("/api/v1/apps/nope/forms/customers/records", "/api/v1/apps/crm_referral/forms/nope/records",
                 f"{CUSTOMERS}/999999", f"{CUSTOMERS}/0", f"{CUSTOMERS}/99999999999999999999"):
        answer = world.client.get(path, headers=world.headers())
        assert answer.status_code == 404, path
        assert_answer_matches(doc, "Error", answer)
        assert answer.json["error"]["code"] == "not_found"
    assert "no form 'nope'" in world.client.get("/api/v1/apps/crm_referral/forms/nope/records",
                                                headers=world.headers()).json["error"]["message_en"]


@pytest.mark.parametrize("how", [{"query_string": {"lang": "en"}}, {"headers": {"Accept-Language": "en-US,en;q=0.9"}}])
def test_wrong_values_are_422_with_every_field_in_english_when_asked(world, how):
    doc = world.document()
    headers = {**world.headers(), **how.get("headers", {})}
    answer = world.client.post(CUSTOMERS, json={"phone": "12", "email": "not mail"}, headers=headers,
                               query_string=how.get("query_string"))
    assert answer.status_code == 422
    assert_answer_matches(doc, "Error", answer)
    error = answer.json["error"]
    assert error["code"] == "validation" and error["message"] == error["message_en"]
    by_field = {f["field"]: f for f in error["fields"]}
    assert {"name", "phone", "email"} <= set(by_field)
    assert by_field["name"]["message"] == "This field is required" and by_field["name"]["message_zh"] == "此项为必填项"


def test_wrong_values_are_in_chinese_by_default(world):
    answer = world.client.post(CUSTOMERS, json={"kind": "企业"}, headers=world.headers())
    assert answer.status_code == 422
    assert answer.json["error"]["fields"][0]["message"] == "此项为必填项"
    assert answer.json["error"]["message"] == answer.json["error"]["message_zh"]


def test_a_stale_version_is_409_with_both_versions(world):
    doc = world.document()
    record = world.create(CUSTOMER)
    url = f"{CUSTOMERS}/{record['id']}"
    assert world.client.patch(url, json={"remark": "先改"}, headers=world.headers()).status_code == 200
    answer = world.client.patch(url, json={"remark": "后改"}, headers=world.headers(**{"If-Match": '"1"'}))
    assert answer.status_code == 409
    assert_answer_matches(doc, "Error", answer)
    assert answer.json["error"]["code"] == "conflict"
    assert answer.json["error"]["details"] == {"record_id": record["id"], "your_version": 1, "current_version": 2}
    assert world.client.get(url, headers=world.headers()).json["fields"]["remark"] == "先改"
    mismatch = world.client.patch(url, json={"remark": "x", "version": 2}, headers=world.headers(**{"If-Match": '"1"'}))
    assert mismatch.status_code == 400 and mismatch.json["error"]["fields"][0]["code"] == "api_version_mismatch"


def test_body_that_is_not_json_or_not_records_is_400(world):
    broken = world.client.post(CUSTOMERS, data='{"name": ', headers=world.headers(**{"Content-Type": "application/json"}))
    assert broken.status_code == 400
    assert broken.json["error"]["fields"][0]["code"] == "api_body_json" and broken.json["error"]["fields"][0]["line"] == 1
    for body in ("3", '"x"', "[]", "[1]"):
        answer = world.client.post(CUSTOMERS, data=body, headers=world.headers())
        assert answer.status_code == 400 and answer.json["error"]["fields"][0]["code"] == "api_body_record", body
    too_many = world.client.post(CUSTOMERS, json=[{"name": "x"}] * 1001, headers=world.headers())
    assert too_many.status_code == 400 and too_many.json["error"]["code"] == "too_many_records"


def test_no_credentials_is_401_with_www_authenticate(world):
    doc = world.document()
    for method, path in (("get", CUSTOMERS), ("post", CUSTOMERS), ("get", "/api/v1/openapi.json")):
        answer = getattr(world.client, method)(path)
        assert answer.status_code == 401, path
        assert_answer_matches(doc, "Error", answer)
        assert answer.json["error"]["code"] == "unauthorized" and answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_unknown_or_revoked_key_is_401(world, db):
    for token in ("fwk_00000000_madeup", "garbage"):
        answer = world.client.get(CUSTOMERS, headers=bearer(token))
        assert answer.status_code == 401 and answer.json["error"]["code"] == "api_key_invalid"
    with db.begin() as conn:
        keys = ApiKeys(conn)
        keys.revoke(keys.list(world.users["li"])[0].id)
    answer = world.client.get(CUSTOMERS, headers=world.headers())
    assert answer.status_code == 401 and answer.json["error"]["code"] == "api_key_invalid"
    assert "Settings > API keys" in answer.json["error"]["message_en"]


def test_a_session_without_its_csrf_token_may_read_but_not_write(world):
    client = world.app.test_client()
    sign_in(client)
    assert client.get(CUSTOMERS).status_code == 200
    missing = client.post(CUSTOMERS, json=CUSTOMER)
    assert missing.status_code == 400 and missing.json["error"]["code"] == "csrf_missing"
    assert "X-CSRF-Token" in missing.json["error"]["message_en"]
    wrong = client.post(CUSTOMERS, json=CUSTOMER, headers={"X-CSRF-Token": "forged"})
    assert wrong.status_code == 400 and wrong.json["error"]["code"] == "csrf_invalid"
    assert client.get(CUSTOMERS + "?count=exact").json["count"]["value"] == 0


def test_a_body_over_2_mb_is_413_in_the_api_shape(world):
    doc = world.document()
    answer = world.client.post(CUSTOMERS, data=b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}',
                               headers=world.headers(**{"Content-Type": "application/json"}))
    assert answer.status_code == 413
    assert_answer_matches(doc, "Error", answer)
    assert answer.json["error"]["code"] == "body_too_large" and "2 MB" in answer.json["error"]["message_en"]


def test_a_method_the_path_does_not_take_is_405(world):
    answer = world.client.put(CUSTOMERS, json={}, headers=world.headers())
    assert answer.status_code == 405 and answer.json["error"]["code"] == "method_not_allowed"
    assert {"GET", "POST"} <= set(answer.headers["Allow"].replace(" ", "").split(","))


def test_restoring_a_live_record_or_deleting_twice_is_404(world):
    record = world.create(CUSTOMER)
    url = f"{CUSTOMERS}/{record['id']}"
    live = world.client.post(url + "/restore", headers=world.headers(**{"Accept-Language": "en"}))
    assert live.status_code == 404 and "recycle bin" in live.json["error"]["message_en"]
    assert world.client.delete(url, headers=world.headers()).status_code == 204
    again = world.client.delete(url, headers=world.headers())
    assert again.status_code == 404 and again.json["error"]["code"] == "not_found"

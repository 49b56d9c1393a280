"""CSRF: every state-changing request made with the session cookie needs the token,
as a form field or the X-CSRF-Token header; API-key requests need none."""
from __future__ import annotations

from runtime.auth import ApiKeys
from tests.support.web import PASSWORD, csrf_from, sign_in


def test_sign_in_without_token_is_400_with_a_clear_page(client, user_id):
    client.get("/login")
    answer = client.post("/login", data={"account": "li.lei", "password": PASSWORD})
    assert answer.status_code == 400
    assert "表单缺少安全令牌" in answer.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_wrong_form_token_is_400(client, user_id):
    sign_in(client)
    answer = client.post("/logout", data={"csrf_token": "forged"})
    assert answer.status_code == 400
    assert "安全令牌已失效" in answer.get_data(as_text=True)
    assert client.get("/").status_code == 200           # still signed in


def test_fetch_without_header_is_400_json(client, user_id):
    sign_in(client)
    answer = client.post("/lang", json={}, headers={"Accept": "application/json"})
    assert answer.status_code == 400
    assert answer.json["error"]["code"] == "csrf_missing"
    assert answer.json["error"]["message"]


def test_fetch_with_wrong_header_is_400_json(client, user_id):
    sign_in(client)
    answer = client.post("/lang", headers={"X-CSRF-Token": "nope", "Accept": "application/json"})
    assert answer.status_code == 400 and answer.json["error"]["code"] == "csrf_invalid"


def test_fetch_with_header_from_meta_tag_passes(client, user_id):
    sign_in(client)
    token = csrf_from(client, "/")
    answer = client.post("/lang", data={"lang": "en", "next": "/"}, headers={"X-CSRF-Token": token})
    assert answer.status_code == 302
    assert "Hello, 李雷" in client.get("/").get_data(as_text=True)


def test_token_is_new_after_sign_in(client, user_id):
    before = csrf_from(client)
    sign_in(client)
    assert csrf_from(client, "/") != before


def test_bearer_requests_need_no_token(client, user_id, db):
    with db.begin() as conn:
        _key, secret = ApiKeys(conn).create(user_id, "script")
    answer = client.post("/lang", data={"lang": "en"}, headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 302

"""API keys: the settings page lists, creates (shown once) and revokes; bearer auth."""
from __future__ import annotations

import re

import sqlalchemy as sa

from engine.storage import system
from runtime.auth import ApiKeys
from runtime.auth.api_keys import digest
from tests.support.web import add_user, post_form, sign_in

_SECRET = re.compile(r'<code class="secret" id="new-key">(fwk_[^<]+)</code>')


def _create(client, name="nightly sync"):
    return post_form(client, "/account/api-keys", {"name": name}, token_from="/account/api-keys")


def test_page_creates_a_key_shown_once_and_stored_hashed(client, user_id, db):
    sign_in(client)
    created = _create(client)
    assert created.status_code == 200
    secret = _SECRET.search(created.get_data(as_text=True)).group(1)
    listing = client.get("/account/api-keys").get_data(as_text=True)
    assert secret not in listing and "nightly sync" in listing and secret[:12] in listing
    with db.connect() as conn:
        stored = conn.execute(sa.select(system.api_keys)).one()
    assert stored.secret_sha256 == digest(secret) and secret not in str(tuple(stored))


def test_blank_name_is_refused_beside_the_form(client, user_id):
    sign_in(client)
    answer = _create(client, "   ")
    assert answer.status_code == 422 and "此项为必填项" in answer.get_data(as_text=True)


def test_bearer_key_signs_in_as_its_user_and_notes_the_use(app, client, user_id, db):
    sign_in(client)
    secret = _SECRET.search(_create(client).get_data(as_text=True)).group(1)
    other = app.test_client()
    answer = other.get("/", headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 200 and "李雷" in answer.get_data(as_text=True)
    assert "Set-Cookie" not in answer.headers or "uid" not in answer.headers.get("Set-Cookie", "")
    with db.connect() as conn:
        assert conn.execute(sa.select(system.api_keys.c.last_used_at)).scalar_one() is not None


def test_revoked_or_unknown_key_is_401_json(app, client, user_id, db):
    sign_in(client)
    secret = _SECRET.search(_create(client).get_data(as_text=True)).group(1)
    with db.connect() as conn:
        key_id = conn.execute(sa.select(system.api_keys.c.id)).scalar_one()
    assert post_form(client, f"/account/api-keys/{key_id}/revoke", token_from="/account/api-keys").status_code == 302
    assert "已吊销" in client.get("/account/api-keys").get_data(as_text=True)
    for token in (secret, "fwk_00000000_madeup", "not-a-key"):
        answer = app.test_client().get("/", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401
        assert answer.json["error"]["code"] == "api_key_invalid"


def test_another_users_key_cannot_be_revoked_from_the_page(client, user_id, db):
    other_id = add_user(db, "han.mei", "韩梅")
    with db.begin() as conn:
        key, _secret = ApiKeys(conn).create(other_id, "hers")
    sign_in(client)
    answer = post_form(client, f"/account/api-keys/{key.id}/revoke", token_from="/account/api-keys")
    assert answer.status_code == 404
    with db.connect() as conn:
        assert ApiKeys(conn).get(key.id).revoked_at is None


def test_page_lists_only_the_users_own_keys(client, user_id, db):
    other_id = add_user(db, "han.mei", "韩梅")
    with db.begin() as conn:
        ApiKeys(conn).create(other_id, "hers")
        ApiKeys(conn).create(user_id, "mine")
    sign_in(client)
    html = client.get("/account/api-keys").get_data(as_text=True)
    assert "mine" in html and "hers" not in html

"""Deactivating a user ends their sessions and API keys; a password change ends the
other sessions; reactivating brings neither back."""
from __future__ import annotations

from runtime.auth import ApiKeys
from runtime.session import Session
from tests.support.web import PASSWORD, post_form, sign_in


def _bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}", "Accept": "application/json"}


def test_deactivation_ends_the_session_and_the_key(app, client, user_id, db):
    sign_in(client)
    with db.begin() as conn:
        _key, secret = ApiKeys(conn).create(user_id, "script")
    assert client.get("/").status_code == 200
    assert app.test_client().get("/", headers=_bearer(secret)).status_code == 200
    with Session(db).write() as uow:
        uow.org.users.deactivate([user_id])
    assert client.get("/").status_code == 302
    refused = app.test_client().get("/", headers=_bearer(secret))
    assert refused.status_code == 401 and refused.json["error"]["code"] == "api_key_invalid"
    with Session(db).write() as uow:
        uow.org.users.reactivate([user_id])
    assert client.get("/").status_code == 302                       # the old cookie stays dead
    assert app.test_client().get("/", headers=_bearer(secret)).status_code == 401


def test_password_change_ends_other_sessions_not_this_one(app, client, user_id):
    other = app.test_client()
    sign_in(other)
    sign_in(client)
    answer = post_form(client, "/account/password", {"current_password": PASSWORD,
                                                     "new_password": "a-new-secret-7",
                                                     "confirm_password": "a-new-secret-7"},
                       token_from="/account/password")
    assert answer.status_code == 302
    assert client.get("/").status_code == 200
    assert other.get("/").status_code == 302
    fresh = app.test_client()
    assert sign_in(fresh, password=PASSWORD).status_code == 401
    assert sign_in(fresh, password="a-new-secret-7").status_code == 302


def test_a_cookie_of_a_user_since_removed_is_dropped(app, client, user_id, db):
    with client.session_transaction() as session:
        session["uid"], session["epoch"] = 999_999, 0
    assert client.get("/").status_code == 302

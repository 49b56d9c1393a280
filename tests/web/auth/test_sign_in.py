"""Sign-in, sign-out, the lockout after repeated failures, and the session cookie."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from engine.storage import system
from engine.storage.types import utcnow
from runtime.auth.throttle import ACCOUNT_LIMIT
from runtime.session import Session
from tests.support.web import PASSWORD, csrf_from, make_app, post_form, sign_in


def test_anonymous_home_goes_to_sign_in(client):
    answer = client.get("/")
    assert answer.status_code == 302
    assert answer.location.startswith("/login?next=/")


def test_right_password_signs_in_and_lands_on_next(client, user_id):
    token = csrf_from(client)
    answer = client.post("/login", data={"account": "LI.LEI", "password": PASSWORD, "csrf_token": token,
                                         "next": "/account/password"})
    assert answer.status_code == 302 and answer.location == "/account/password"
    home = client.get("/")
    assert home.status_code == 200 and "李雷" in home.get_data(as_text=True)


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil"])
def test_next_never_leaves_the_site(client, user_id, target):
    token = csrf_from(client)
    answer = client.post("/login", data={"account": "li.lei", "password": PASSWORD, "csrf_token": token,
                                         "next": target})
    assert answer.location == "/"


def test_wrong_password_and_unknown_account_answer_alike(client, user_id):
    wrong = sign_in(client, "li.lei", "not-the-password")
    unknown = sign_in(client, "nobody.here", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    for answer in (wrong, unknown):
        assert "账号或密码不正确" in answer.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_deactivated_user_cannot_sign_in(client, user_id, db):
    with Session(db).write() as uow:
        uow.org.users.deactivate([user_id])
    assert sign_in(client).status_code == 401


def test_repeated_failures_lock_the_account_even_with_the_right_password(client, user_id):
    for _ in range(ACCOUNT_LIMIT - 1):
        assert sign_in(client, "li.lei", "wrong-password").status_code == 401
    locked = sign_in(client, "li.lei", "wrong-password")
    assert locked.status_code == 429
    assert "15 分钟后" in locked.get_data(as_text=True)
    assert sign_in(client).status_code == 429          # right password, still locked
    assert client.get("/").status_code == 302


def test_an_unknown_account_locks_the_same_way(client):
    answers = [sign_in(client, "ghost", "wrong-password").status_code for _ in range(ACCOUNT_LIMIT)]
    assert answers == [401] * (ACCOUNT_LIMIT - 1) + [429]


def test_the_lock_ends(client, user_id, db):
    for _ in range(ACCOUNT_LIMIT):
        sign_in(client, "li.lei", "wrong-password")
    past = utcnow() - timedelta(minutes=20)
    with db.begin() as conn:
        conn.execute(sa.update(system.sign_in_failures).values(locked_until=past, first_failed_at=past))
    assert sign_in(client).status_code == 302


def test_success_forgets_the_account_failures(client, user_id):
    for _ in range(ACCOUNT_LIMIT - 1):
        sign_in(client, "li.lei", "wrong-password")
    assert sign_in(client).status_code == 302
    post_form(client, "/logout")
    assert sign_in(client, "li.lei", "wrong-password").status_code == 401   # counting starts again


def test_sign_out_ends_the_session_but_keeps_the_language(client, user_id):
    sign_in(client)
    post_form(client, "/lang", {"lang": "en", "next": "/"})
    answer = post_form(client, "/logout")
    assert answer.status_code == 302 and answer.location == "/login"
    assert client.get("/").status_code == 302
    assert "Sign in to Formwork" in client.get("/login").get_data(as_text=True)


def test_sign_out_needs_post(client, user_id):
    sign_in(client)
    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200


def test_session_cookie_flags(client, user_id):
    answer = sign_in(client)
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_session_cookie_is_secure_over_https(client, user_id):
    token = csrf_from(client)
    answer = client.post("/login", base_url="https://localhost",
                         data={"account": "li.lei", "password": PASSWORD, "csrf_token": token})
    assert "; Secure" in answer.headers["Set-Cookie"]


def test_secure_cookies_forced_by_setting(db, user_id):
    app = make_app(db, FORMWORK_SECURE_COOKIES=True)
    answer = sign_in(app.test_client())
    assert "; Secure" in answer.headers["Set-Cookie"]
    app.extensions["formwork"].engine.dispose()

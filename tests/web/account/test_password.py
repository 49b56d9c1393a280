"""The password change page: every problem beside its field; success keeps this session."""
from __future__ import annotations

from tests.support.web import PASSWORD, post_form, sign_in


def _change(client, current, new, confirm):
    return post_form(client, "/account/password", {"current_password": current, "new_password": new,
                                                   "confirm_password": confirm}, token_from="/account/password")


def test_wrong_current_password_is_refused(client, user_id):
    sign_in(client)
    answer = _change(client, "not-it", "a-new-secret-7", "a-new-secret-7")
    assert answer.status_code == 422
    assert 'data-field="current_password"' in answer.get_data(as_text=True)


def test_confirmation_must_match(client, user_id):
    sign_in(client)
    answer = _change(client, PASSWORD, "a-new-secret-7", "a-new-secret-8")
    assert answer.status_code == 422 and "两次输入的新密码不一致" in answer.get_data(as_text=True)


def test_the_org_models_password_rules_apply(client, user_id):
    sign_in(client)
    answer = _change(client, PASSWORD, "aaaaaaaaaa", "aaaaaaaaaa")
    assert answer.status_code == 422 and 'data-field="new_password"' in answer.get_data(as_text=True)


def test_success_says_so(client, user_id):
    sign_in(client)
    answer = _change(client, PASSWORD, "a-new-secret-7", "a-new-secret-7")
    assert answer.status_code == 302
    assert "密码已修改" in client.get("/account/password").get_data(as_text=True)


def test_page_needs_sign_in(client):
    assert client.get("/account/password").status_code == 302

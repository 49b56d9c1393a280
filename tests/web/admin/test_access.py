"""Every admin page and action: 403 for a signed-in user who is not an administrator,
the sign-in page for nobody, 400 for a POST without the CSRF token."""
from __future__ import annotations

import pytest

from tests.support.web import add_user, csrf_from, sign_in


def admin_routes(app) -> list[tuple[str, str]]:
    """(method, path) of every /admin route, its ids filled in with 1."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin"):
            continue
        path = rule.rule
        for arg in rule.arguments:
            path = path.replace(f"<int:{arg}>", "1").replace(f"<{arg}>", "crm_referral")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((method, path))
    return sorted(found)


def test_the_admin_area_has_every_page_family(app):
    paths = {path for _method, path in admin_routes(app)}
    for expected in ("/admin/users", "/admin/users/new", "/admin/departments", "/admin/roles", "/admin/api-keys",
                     "/admin/apps", "/admin/apps/crm_referral", "/admin/users/1/deactivate"):
        assert expected in paths


def test_a_user_who_is_not_an_administrator_gets_403_everywhere(app, db):
    add_user(db, "li.lei", "李雷")
    client = app.test_client()
    sign_in(client)
    token = csrf_from(client, "/")
    for method, path in admin_routes(app):
        answer = client.open(path, method=method, data={"csrf_token": token}, headers={"Accept": "text/html"})
        assert answer.status_code == 403, (method, path, answer.status_code)
        assert "403" in answer.get_data(as_text=True)


def test_nobody_signed_in_is_sent_to_sign_in(app):
    client = app.test_client()
    for method, path in admin_routes(app):
        if method == "GET":
            answer = client.get(path, headers={"Accept": "text/html"})
            assert answer.status_code == 302 and "/login" in answer.headers["Location"], path


@pytest.mark.parametrize("with_token", [False, True])
def test_every_admin_post_needs_the_csrf_token(app, db, with_token):
    add_user(db, "admin", "管理员", is_admin=True)
    client = app.test_client()
    sign_in(client, "admin")
    data = {"csrf_token": "forged"} if with_token else {}
    for method, path in admin_routes(app):
        if method == "POST":
            answer = client.post(path, data=data, headers={"Accept": "text/html"})
            assert answer.status_code == 400, (path, answer.status_code)

"""/admin/users: list, search, paging, add (with department and roles), edit, deactivate
and reactivate (sessions and keys end), reset password, administrator flag, roles."""
from __future__ import annotations

import re

from runtime.auth import ApiKeys
from runtime.session import Session
from tests.support.web import PASSWORD, add_user, post_form, sign_in


def page(client, path):
    answer = client.get(path)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    return answer.get_data(as_text=True)


def test_the_list_searches_and_pages(admin, db):
    with Session(db).write() as uow:
        uow.org.users.add_many([{"account": f"user{n:03d}", "name": f"员工{n:03d}"} for n in range(60)])
    first = page(admin, "/admin/users")
    assert "61" in first and "user000" in first and "user049" not in first
    assert "page=2" in first
    second = page(admin, "/admin/users?page=2")
    assert "user049" in second and "user000" not in second
    found = page(admin, "/admin/users?q=员工007")
    assert "user007" in found and "user008" not in found


def test_the_list_shows_deactivated_users_when_asked(admin, db):
    gone = add_user(db, "gone.user", "离职员工")
    with Session(db).write() as uow:
        uow.org.users.deactivate([gone])
    assert "gone.user" not in page(admin, "/admin/users")
    assert "gone.user" in page(admin, "/admin/users?status=inactive")
    assert "gone.user" in page(admin, "/admin/users?status=all")


def test_adding_a_user_with_a_department_and_a_role_shows_the_generated_password_once(admin, db):
    with Session(db).write() as uow:
        dept = uow.org.departments.create("销售部")
        role = uow.org.roles.create("sales", "销售")
    answer = post_form(admin, "/admin/users/new", {"account": "han.meimei", "name": "韩梅梅", "email": "han@example.com",
                                                   "department": str(dept.id), "roles": str(role.id)})
    assert answer.status_code == 200
    body = answer.get_data(as_text=True)
    password = re.search(r'id="new-password">([^<]+)<', body).group(1)
    with Session(db).read() as uow:
        user = uow.org.users.get("han.meimei")
        assert [m.department.name for m in uow.org.departments.memberships(user.id)] == ["销售部"]
        assert [r.key for r in uow.org.roles.roles_of(user.id)] == ["sales"]
        assert uow.org.users.check_password("han.meimei", password) is not None
    assert password not in page(admin, f"/admin/users/{user.id}")


def test_a_taken_account_and_a_bad_email_are_shown_beside_their_fields_with_the_values_kept(admin, db):
    add_user(db, "li.lei", "李雷")
    answer = post_form(admin, "/admin/users/new", {"account": "LI.LEI", "name": "另一个李雷", "email": "not-an-email"})
    assert answer.status_code == 422
    body = answer.get_data(as_text=True)
    assert re.search(r'data-field="account">账号“li.lei”已被使用', body)
    assert 'data-field="email"' in body
    assert 'value="另一个李雷"' in body and 'value="not-an-email"' in body


def test_the_error_is_in_the_page_language(admin, db):
    add_user(db, "li.lei", "李雷")
    post_form(admin, "/lang", {"lang": "en"})
    body = post_form(admin, "/admin/users/new", {"account": "li.lei", "name": "x"}).get_data(as_text=True)
    assert "The account &#39;li.lei&#39; is already taken" in body


def test_editing_name_email_and_phone(admin, db):
    uid = add_user(db, "li.lei", "李雷")
    answer = post_form(admin, f"/admin/users/{uid}", {"name": "李雷雷", "email": "LI@Example.com", "phone": "138 1234 5678"})
    assert answer.status_code == 302
    with Session(db).read() as uow:
        user = uow.org.users.get(uid)
    assert (user.name, user.email, user.phone) == ("李雷雷", "li@example.com", "13812345678")
    bad = post_form(admin, f"/admin/users/{uid}", {"name": "", "email": "x@", "phone": ""})
    assert bad.status_code == 422 and 'data-field="name"' in bad.get_data(as_text=True)


def test_deactivating_ends_sessions_and_keys_and_reactivating_lets_them_sign_in(app, admin, db):
    uid = add_user(db, "li.lei", "李雷")
    with Session(db).write() as uow:
        _key, secret = ApiKeys(uow.conn).create(uid, "sync")
    theirs = app.test_client()
    sign_in(theirs)
    assert theirs.get("/").status_code == 200
    assert post_form(admin, f"/admin/users/{uid}/deactivate").status_code == 302
    assert theirs.get("/").status_code == 302                         # the session ended
    assert app.test_client().get("/", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert sign_in(app.test_client()).status_code != 302
    assert post_form(admin, f"/admin/users/{uid}/reactivate").status_code == 302
    assert sign_in(app.test_client()).status_code == 302


def test_resetting_a_password_shows_a_new_one_once(app, admin, db):
    uid = add_user(db, "li.lei", "李雷")
    answer = post_form(admin, f"/admin/users/{uid}/reset-password")
    password = re.search(r'id="new-password">([^<]+)<', answer.get_data(as_text=True)).group(1)
    assert sign_in(app.test_client(), "li.lei", PASSWORD).status_code != 302
    assert sign_in(app.test_client(), "li.lei", password).status_code == 302


def test_making_and_unmaking_an_administrator(app, admin, db):
    uid = add_user(db, "li.lei", "李雷")
    theirs = app.test_client()
    sign_in(theirs)
    assert theirs.get("/admin/users").status_code == 403
    post_form(admin, f"/admin/users/{uid}/admin", {"is_admin": "1"})
    assert theirs.get("/admin/users").status_code == 200
    post_form(admin, f"/admin/users/{uid}/admin", {"is_admin": "0"})
    assert theirs.get("/admin/users").status_code == 403


def test_an_administrator_is_not_offered_to_deactivate_themselves(admin, db):
    with Session(db).read() as uow:
        me = uow.org.users.get("admin").id
    body = page(admin, f"/admin/users/{me}")
    assert f"/admin/users/{me}/deactivate" not in body and f"/admin/users/{me}/reset-password" in body


def test_setting_a_users_roles(admin, db):
    uid = add_user(db, "li.lei", "李雷")
    with Session(db).write() as uow:
        sales = uow.org.roles.create("sales", "销售")
        finance = uow.org.roles.create("finance", "财务")
        uow.org.roles.assign(finance.id, [uid])
    post_form(admin, f"/admin/users/{uid}/roles", {"roles": str(sales.id)})
    with Session(db).read() as uow:
        assert [r.key for r in uow.org.roles.roles_of(uid)] == ["sales"]


def test_an_unknown_user_is_404(admin):
    assert admin.get("/admin/users/9999").status_code == 404

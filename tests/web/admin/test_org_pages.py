"""/admin/departments, /admin/roles, /admin/api-keys: every action, and the runtime's
refusals (a department cycle, a taken name, an invalid role key) beside their fields."""
from __future__ import annotations

from runtime.auth import ApiKeys
from runtime.session import Session
from tests.support.web import add_user, post_form


def test_adding_departments_makes_a_tree(admin, db):
    assert post_form(admin, "/admin/departments", {"name": "总部"}).status_code == 302
    with Session(db).read() as uow:
        root = uow.org.departments.get("总部")
    assert post_form(admin, "/admin/departments", {"name": "销售部", "parent": str(root.id)}).status_code == 302
    body = admin.get("/admin/departments").get_data(as_text=True)
    assert "总部" in body and "销售部" in body and "--depth: 1" in body


def test_a_taken_department_name_is_shown_beside_the_name_with_the_value_kept(admin, db):
    with Session(db).write() as uow:
        uow.org.departments.create("总部")
    answer = post_form(admin, "/admin/departments", {"name": "总部"})
    assert answer.status_code == 422
    body = answer.get_data(as_text=True)
    assert 'data-field="name">“”下已有名为“总部”的部门' in body or ('data-field="name"' in body and "总部" in body)
    assert 'value="总部"' in body
    slash = post_form(admin, "/admin/departments", {"name": "a/b"}).get_data(as_text=True)
    assert "部门名称不能含“/”" in slash and 'value="a/b"' in slash


def test_rename_move_head_members_and_delete(admin, db):
    li = add_user(db, "li.lei", "李雷")
    han = add_user(db, "han.meimei", "韩梅梅")
    with Session(db).write() as uow:
        root = uow.org.departments.create("总部")
        sales = uow.org.departments.create("销售部")
    base = f"/admin/departments/{sales.id}"
    assert post_form(admin, f"{base}/rename", {"name": "销售一部"}).status_code == 302
    assert post_form(admin, f"{base}/move", {"parent": str(root.id)}).status_code == 302
    assert post_form(admin, f"{base}/members", {"accounts": "li.lei, han.meimei"}).status_code == 302
    assert post_form(admin, f"{base}/head", {"head": str(li)}).status_code == 302
    with Session(db).read() as uow:
        assert uow.org.departments.path(sales.id) == "总部/销售一部"
        assert uow.org.departments.head_of(sales.id).id == li
        assert {u.id for u in uow.org.departments.members(sales.id)} == {li, han}
    body = admin.get(base).get_data(as_text=True)
    assert "韩梅梅" in body and "总部/销售一部" in body
    assert post_form(admin, f"{base}/members/{han}/remove").status_code == 302
    assert post_form(admin, f"{base}/head", {"head": ""}).status_code == 302
    refused = post_form(admin, f"{base}/delete")
    assert refused.status_code == 422 and "还有 0 个子部门和 1 名成员" in refused.get_data(as_text=True)
    post_form(admin, f"{base}/members/{li}/remove")
    assert post_form(admin, f"{base}/delete").status_code == 302
    assert admin.get(base).status_code == 404


def test_moving_a_department_under_its_own_sub_department_is_refused_beside_the_field(admin, db):
    with Session(db).write() as uow:
        root = uow.org.departments.create("总部")
        child = uow.org.departments.create("销售部", parent=root.id)
    answer = post_form(admin, f"/admin/departments/{root.id}/move", {"parent": str(child.id)})
    assert answer.status_code == 422
    body = answer.get_data(as_text=True)
    assert 'data-field="parent">不能把部门“总部”移到“总部/销售部”之下' in body
    assert f'<option value="{child.id}" selected>' in body      # the choice is kept
    with Session(db).read() as uow:
        assert uow.org.departments.get(root.id).parent_id is None


def test_a_deactivated_user_cannot_be_made_head(admin, db):
    gone = add_user(db, "gone", "离职")
    with Session(db).write() as uow:
        dept = uow.org.departments.create("总部")
        uow.org.departments.add_members(dept.id, [gone])
        uow.org.users.deactivate([gone])
    body = post_form(admin, f"/admin/departments/{dept.id}/head", {"head": str(gone)}).get_data(as_text=True)
    assert 'data-field="head">用户“gone”已停用' in body


def test_adding_an_unknown_account_as_member_names_it(admin, db):
    with Session(db).write() as uow:
        dept = uow.org.departments.create("总部")
    answer = post_form(admin, f"/admin/departments/{dept.id}/members", {"accounts": "nobody"})
    assert answer.status_code == 422 and "找不到用户“nobody”" in answer.get_data(as_text=True)
    assert 'value="nobody"' in answer.get_data(as_text=True)


def test_roles_add_members_rename_and_delete(admin, db):
    li = add_user(db, "li.lei", "李雷")
    answer = post_form(admin, "/admin/roles", {"key": "sales", "name": "销售", "description": "一线销售"})
    assert answer.status_code == 302
    role_page = answer.headers["Location"]
    assert post_form(admin, f"{role_page}/members", {"accounts": "li.lei"}).status_code == 302
    assert "李雷" in admin.get(role_page).get_data(as_text=True)
    assert post_form(admin, f"{role_page}/rename", {"name": "销售员", "description": ""}).status_code == 302
    listed = admin.get("/admin/roles").get_data(as_text=True)
    assert "销售员" in listed and "<code>sales</code>" in listed
    refused = post_form(admin, f"{role_page}/delete")
    assert refused.status_code == 422 and "还有 1 名成员" in refused.get_data(as_text=True)
    assert post_form(admin, f"{role_page}/members/{li}/remove").status_code == 302
    assert post_form(admin, f"{role_page}/delete").status_code == 302
    with Session(db).read() as uow:
        assert uow.org.roles.list() == []


def test_an_invalid_or_taken_role_key_is_shown_beside_the_key_with_the_values_kept(admin, db):
    answer = post_form(admin, "/admin/roles", {"key": "Sales Team", "name": "销售"})
    assert answer.status_code == 422
    body = answer.get_data(as_text=True)
    assert 'data-field="key">角色标识“Sales Team”无效' in body and 'value="Sales Team"' in body and 'value="销售"' in body
    post_form(admin, "/admin/roles", {"key": "sales", "name": "销售"})
    taken = post_form(admin, "/admin/roles", {"key": "sales", "name": "又一个"}).get_data(as_text=True)
    assert 'data-field="key">角色标识“sales”已被使用' in taken


def test_every_users_api_keys_are_listed_with_last_use_and_can_be_revoked(app, admin, db):
    li = add_user(db, "li.lei", "李雷")
    with Session(db).write() as uow:
        key, secret = ApiKeys(uow.conn).create(li, "nightly sync")
    assert app.test_client().get("/", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    body = admin.get("/admin/api-keys").get_data(as_text=True)
    assert "nightly sync" in body and "李雷" in body and f"fwk_{key.prefix}" in body
    assert ">never<" not in body and "从未" not in body.split("nightly sync")[1].split("</tr>")[0]
    assert post_form(admin, f"/admin/api-keys/{key.id}/revoke").status_code == 302
    assert app.test_client().get("/", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert admin.post("/admin/api-keys/9999/revoke", headers={"X-CSRF-Token": "x"}).status_code == 400

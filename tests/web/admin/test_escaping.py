"""The XSS corpus in user names, department names, role names and API key names is
rendered escaped on every admin page."""
from __future__ import annotations

from runtime.auth import ApiKeys
from runtime.session import Session
from tests.support.web import add_user, install_flagship

CORPUS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "{{7*7}}"]
RAW = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>"]


def test_hostile_names_are_escaped_on_every_admin_page(admin, db):
    install_flagship(db)
    ids = [add_user(db, f"user{n}", name) for n, name in enumerate(CORPUS)]
    with Session(db).write() as uow:
        depts = [uow.org.departments.create(name.replace("/", "")) for name in CORPUS]
        for dept, uid in zip(depts, ids):
            uow.org.departments.set_head(dept.id, uid)
        role = uow.org.roles.create("sales", CORPUS[1], CORPUS[0])
        uow.org.roles.assign(role.id, ids)
        ApiKeys(uow.conn).create(ids[0], CORPUS[1])
    pages = ["/admin/users", "/admin/users?q=%3Cscript", "/admin/departments", "/admin/roles", "/admin/api-keys",
             "/admin/apps", "/admin/apps/crm_referral", f"/admin/roles/{role.id}", "/admin/users/new"]
    pages += [f"/admin/users/{uid}" for uid in ids] + [f"/admin/departments/{d.id}" for d in depts]
    for path in pages:
        answer = admin.get(path)
        assert answer.status_code == 200, path
        body = answer.get_data(as_text=True)
        for raw in RAW:
            assert raw not in body, (path, raw)
        assert "49" not in body.replace("2049", ""), path            # {{7*7}} is not evaluated
    users = admin.get("/admin/users").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in users and "{{7*7}}" in users

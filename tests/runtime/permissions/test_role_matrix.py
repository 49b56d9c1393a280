"""The permission matrix of the role-based policy: each preset and custom set of the desk
app (tests/support/permissions_app.py) x each action x each ticket. A denied action
raises PermissionDenied (the web's 403), a record outside the actor's scope answers
NotFound (404) or is left out (lists, counts, exports, history)."""
from __future__ import annotations

import csv

import pytest

from engine.errors import NotFound
from runtime.import_export import export_records, import_file
from runtime.permissions import ROLE_POLICY, PermissionDenied
from runtime.records import Records
from tests.support.permissions_app import install_desk

ALL = {"a1", "b1", "x", "c1"}
TICKETS = sorted(ALL)
DENIED = None
# account -> action -> the tickets it reaches (a set), or DENIED; create/import/export: True/DENIED
MATRIX = {
    "agent_a": {"view": {"a1"}, "edit": {"a1"}, "delete": {"a1"}, "history": {"a1"}, "create": True,
                "import": DENIED, "export": DENIED},
    "lead": {"view": {"a1", "b1"}, "edit": {"a1", "b1"}, "delete": DENIED, "history": {"a1", "b1"},
             "create": DENIED, "import": DENIED, "export": DENIED},
    "auditor": {"view": ALL, "edit": DENIED, "delete": DENIED, "history": ALL, "create": DENIED,
                "import": DENIED, "export": True},
    "clerk": {"view": {"c1"}, "edit": DENIED, "delete": DENIED, "history": DENIED, "create": True,
              "import": DENIED, "export": DENIED},
    "editor": {"view": {"a1", "x", "c1"}, "edit": {"a1", "x", "c1"}, "delete": DENIED, "history": DENIED,
               "create": DENIED, "import": DENIED, "export": DENIED},
    "both": {"view": ALL, "edit": set(), "delete": set(), "history": ALL, "create": True,
             "import": DENIED, "export": True},
    "importer": {"view": ALL, "edit": ALL, "delete": ALL, "history": ALL, "create": True, "import": True,
                 "export": True},
    "boss": {"view": ALL, "edit": ALL, "delete": ALL, "history": ALL, "create": True, "import": True,
             "export": True},
    "wsadmin": {"view": ALL, "edit": ALL, "delete": ALL, "history": ALL, "create": True, "import": True,
                "export": True},
    "nobody": {"view": DENIED, "edit": DENIED, "delete": DENIED, "history": DENIED, "create": DENIED,
               "import": DENIED, "export": DENIED},
}
ACTIONS = ("view", "list", "count", "get", "create", "edit", "delete", "restore", "import", "export", "history")


@pytest.fixture
def desk(db):
    desk = install_desk(db)
    u, d = desk.users, desk.departments
    with db.begin() as conn:
        system = Records(conn, desk.app)
        system.bulk_create("tickets", [
            {"title": "a1", "agent": u["agent_a"], "team": d["一组"], "status": "open", "cost": 10},
            {"title": "b1", "agent": u["agent_b"], "team": d["一组"], "status": "closed", "cost": 20},
            {"title": "x", "team": d["总部"], "status": "open", "cost": 30}])
    clerk = desk.actor("clerk")
    with db.begin() as conn:
        Records(conn, desk.app, actor=clerk, policy=ROLE_POLICY).create(
            "tickets", {"title": "c1", "status": "open"})
    return desk


def _ids(db, app) -> dict[str, int]:
    with db.connect() as conn:
        return {r["fields"]["title"]: r["id"] for r in Records(conn, app).list("tickets").records}


def _reach(records, action, ids) -> set[str] | None:
    """The tickets `action` reaches as `records`' actor (None when the action is denied),
    each tried in a savepoint of its own so that none sees another's change."""
    reached = set()
    for title, rid in ids.items():
        savepoint = records.conn.begin_nested()
        try:
            if action in ("view", "get"):
                records.get("tickets", rid)
            elif action == "edit":
                records.update("tickets", rid, {"title": title})
            elif action == "delete":
                records.delete("tickets", rid)
            elif action == "restore":
                Records(records.conn, records.app).delete("tickets", rid)
                records.restore("tickets", rid)
            elif action == "history":
                if not records.history("tickets", rid):
                    continue
            reached.add(title)
        except PermissionDenied:
            return None
        except NotFound:
            pass
        finally:
            savepoint.rollback()
    return reached


def _expected(account: str, action: str):
    row = MATRIX[account]
    return row[{"list": "view", "count": "view", "get": "view", "restore": "delete"}.get(action, action)]


@pytest.mark.parametrize("account", MATRIX)
def test_every_cell_of_the_matrix_is_enforced(desk, account, tmp_path):
    ids = _ids(desk.engine, desk.app)
    actor = desk.actor(account)
    cells = {action: _cell(desk, ids, actor, action, tmp_path) for action in ACTIONS}
    assert cells == {action: _expected(account, action) if action != "count" else
                     (None if _expected(account, action) is None else len(_expected(account, action)))
                     for action in ACTIONS}


def _cell(desk, ids, actor, action, tmp_path):
    """What `actor` gets doing `action`: the tickets reached, a count, True, or None (denied)."""
    db, app = desk.engine, desk.app
    if action in ("import", "export"):
        return _file_cell(desk, actor, action, tmp_path)
    with db.connect() as conn, conn.begin() as transaction:
        records = Records(conn, app, actor=actor, policy=ROLE_POLICY)
        if action in ("list", "count", "create"):
            try:
                if action == "list":
                    got = {r["fields"]["title"] for r in records.list("tickets").records}
                elif action == "count":
                    got = records.count("tickets").value
                else:
                    got = records.create("tickets", {"title": "new"})["fields"]["title"] == "new"
            except PermissionDenied:
                got = None
        else:
            got = _reach(records, action, ids)
        transaction.rollback()
    return got


def _file_cell(desk, actor, action, tmp_path):
    """An export gives True when it wrote the tickets the actor views, an import when its
    dry run passed."""
    if action == "export":
        try:
            written = export_records(desk.engine, "desk", "tickets", tmp_path / "out.csv", actor=actor, lang="en")
        except PermissionDenied:
            return None
        return written == len(_expected(actor.account, "view"))
    source = tmp_path / "in.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["Title", "Status"], ["imported", "Open"]])
    try:
        return import_file(desk.engine, "desk", "tickets", source, actor=actor, lang="en", dry_run=True).ok
    except PermissionDenied:
        return None


def test_a_denied_action_says_which_form_in_both_languages(desk):
    with desk.engine.connect() as conn:
        records = Records(conn, desk.app, actor=desk.actor("nobody"), policy=ROLE_POLICY)
        with pytest.raises(PermissionDenied) as refused:
            records.list("tickets")
    assert refused.value.code == "permission_view_denied"
    assert "tickets" in refused.value.message("en") and "tickets" in refused.value.message("zh")

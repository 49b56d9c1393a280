"""Permission sets that name users (by account) besides roles (docs/permissions.md
"Permission sets"): a named user holds the set whatever their roles, united with their
roles' sets; others with the same roles do not; the plan is kept per roles and named
account; a set naming neither roles nor users is refused by validation, at its line."""
from __future__ import annotations

import pytest

from engine.errors import DefinitionError
from engine.validation import load_definition
from runtime.permissions import ROLE_POLICY
from runtime.permissions.roles import accessible_forms
from runtime.records import Records
from tests.support import permissions_app

NAMED = """
  - key: named
    label: {zh: 指定人员, en: Named people}
    users: [nobody, agent_a, no.such.account]
    forms:
      tickets: {actions: [view], filter: {field: status, value: closed}}
      notes: view_all
"""


@pytest.fixture
def desk(db, monkeypatch):
    monkeypatch.setattr(permissions_app, "DESK", permissions_app.DESK + NAMED)
    desk = permissions_app.install_desk(db)
    u = desk.users
    with db.begin() as conn:
        Records(conn, desk.app).bulk_create("tickets", [
            {"title": "a1", "agent": u["agent_a"], "status": "open"},
            {"title": "b1", "agent": u["agent_b"], "status": "closed"},
            {"title": "c1", "status": "closed"}, {"title": "o1", "status": "open"}])
    return desk


def _titles(conn, desk, account):
    records = Records(conn, desk.app, actor=desk.actor(account), policy=ROLE_POLICY)
    return sorted(r["fields"]["title"] for r in records.list("tickets").records)


def test_a_named_user_holds_the_set_whatever_their_roles(desk):
    with desk.engine.connect() as conn:
        assert _titles(conn, desk, "nobody") == ["b1", "c1"]              # no role: the named set alone
        assert _titles(conn, desk, "agent_a") == ["a1", "b1", "c1"]       # own (agent) or closed (named)
        assert _titles(conn, desk, "agent_b") == ["b1"]                   # same role, not named
    assert [f.key for f in accessible_forms(desk.app, desk.actor("nobody"))] == ["tickets", "notes"]
    nobody = ROLE_POLICY.access(desk.app, desk.app.require_form("tickets"), desk.actor("nobody"))
    assert nobody.can("view") and not nobody.can("edit")


def test_the_plan_is_kept_per_roles_and_named_account(desk):
    form = desk.app.require_form("tickets")
    named = ROLE_POLICY.access(desk.app, form, desk.actor("agent_a"))
    other = ROLE_POLICY.access(desk.app, form, desk.actor("agent_b"))
    assert named.can("view") and other.can("view")
    key = (id(desk.app), "tickets", frozenset({"agent"}))
    assert ROLE_POLICY._plans.get(key + ("agent_a",)) is not None
    assert ROLE_POLICY._plans.get(key + (None,)) is not None           # agent_b shares the roles' plan
    assert ROLE_POLICY._plans.get(key + ("agent_b",)) is None


def test_a_set_naming_neither_roles_nor_users_is_refused_at_its_line(tmp_path):
    text = permissions_app.DESK + """
  - key: orphan
    forms:
      notes: view_all
"""
    path = tmp_path / "desk.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DefinitionError) as refused:
        load_definition(path)
    message = str(refused.value)
    assert "permissions[" in message and "roles" in message and "users" in message, message

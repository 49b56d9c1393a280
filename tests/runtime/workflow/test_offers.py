"""Workflows.offers: what the actor may do on a record's running workflow, by act's own
rules (the assignee's task actions, the submitter's withdraw and urge, an admin's end and
reassign), and each offered action is one act then accepts."""
from __future__ import annotations

from tests.support.workflow_app import as_user, install, make_org, pending

NODES = [{"key": "submit", "type": "start", "next": "first"},
         {"key": "first", "type": "approve", "approvers": [{"users": ["dan"]}], "next": "check"},
         {"key": "check", "type": "approve", "approvers": [{"users": ["bob"]}], "next": "done"},
         {"key": "done", "type": "end"}]


def _actions(conn, account, record_id):
    return [(o["node_key"], o["actions"], o["return_to"])
            for o in as_user(conn, account).offers("office", "expenses", record_id)]


def test_each_user_is_offered_what_act_allows_them(db):
    install(db, NODES)
    make_org(db)
    with db.begin() as conn:
        record, _instance = as_user(conn, "ann").submit("office", "expenses", {"title": "x"})
        rid = record["id"]
        assert _actions(conn, "dan", rid) == [
            ("first", ["approve", "reject", "return", "transfer", "add_before", "add_after"], ["submitter"])]
        assert _actions(conn, "ann", rid) == [(None, ["withdraw", "urge"], [])]
        assert _actions(conn, "root", rid) == [("first", ["reassign"], []), (None, ["end"], [])]
        assert _actions(conn, "bob", rid) == []
        [task] = pending(conn, "dan")
        as_user(conn, "dan").act(task["id"], "approve")
        # dan has acted: ann may no longer withdraw; bob may return to first or the submitter
        assert _actions(conn, "ann", rid) == [(None, ["urge"], [])]
        assert _actions(conn, "bob", rid) == [
            ("check", ["approve", "reject", "return", "transfer", "add_before", "add_after"], ["submitter", "first"])]
        [task] = pending(conn, "bob")
        as_user(conn, "bob").act(task["id"], "return", to="first")
        assert _actions(conn, "dan", rid)[0][0] == "first"
        [task] = pending(conn, "dan")
        as_user(conn, "dan").act(task["id"], "reject")
        assert _actions(conn, "ann", rid) == [] and _actions(conn, "root", rid) == []

"""Node types not covered elsewhere: parallel branches that wait for people and meet at
their join; an automated step recorded, or run by a registered action."""
from __future__ import annotations

from runtime.workflow import AUTOMATED_ACTIONS, register_action
from tests.support.workflow_app import as_user, install, make_org, pending


def test_parallel_branches_with_people_meet_at_the_join(db):
    install(db, [{"key": "submit", "type": "start", "next": "split"},
                 {"key": "split", "type": "parallel", "branches": ["legal", "money"], "join": "both"},
                 {"key": "legal", "type": "approve", "approvers": [{"users": ["bob"]}], "next": "both"},
                 {"key": "money", "type": "approve", "approvers": [{"role": "finance"}], "next": "after"},
                 {"key": "after", "type": "approve", "approvers": [{"users": ["carl"]}], "next": "both"},
                 {"key": "both", "type": "join", "next": "done"},
                 {"key": "done", "type": "end"}])
    make_org(db)
    with db.begin() as conn:
        _, instance = as_user(conn, "ann").submit("office", "expenses", {"title": "x"})
        assert sorted(instance["current_nodes"]) == ["legal", "money"]
        [task] = pending(conn, "fay")
        assert as_user(conn, "fay").act(task["id"], "approve")["current_nodes"] == ["legal", "after"]
        [task] = pending(conn, "bob")
        assert as_user(conn, "bob").act(task["id"], "approve")["current_nodes"] == ["after"]
        [task] = pending(conn, "carl")
        assert as_user(conn, "carl").act(task["id"], "approve")["status"] == "approved"


def test_an_automated_step_is_recorded_until_its_action_is_registered(db):
    install(db, [{"key": "submit", "type": "start", "next": "notify"},
                 {"key": "notify", "type": "action", "action": "tell_sales", "params": {"channel": "wecom"},
                  "next": "done"}, {"key": "done", "type": "end"}])
    make_org(db)
    with db.begin() as conn:
        record, instance = as_user(conn, "ann").submit("office", "expenses", {"title": "x"})
        assert instance["status"] == "approved"
        [entry] = [e for e in as_user(conn, "ann").log("office", "expenses", record["id"]) if e["node_key"] == "notify"]
        assert (entry["action"], entry["changes"]) == (
            "action_recorded", {"action": "tell_sales", "params": {"channel": "wecom"}, "run": False})
    seen = []
    register_action("tell_sales", lambda run, node: seen.append(run.values["title"]) or {"sent": True})
    try:
        with db.begin() as conn:
            record, _ = as_user(conn, "ann").submit("office", "expenses", {"title": "第二"})
            [entry] = [e for e in as_user(conn, "ann").log("office", "expenses", record["id"])
                       if e["node_key"] == "notify"]
            assert entry["action"] == "action" and entry["changes"]["result"] == {"sent": True}
            assert seen == ["第二"]
    finally:
        AUTOMATED_ACTIONS.pop("tell_sales")

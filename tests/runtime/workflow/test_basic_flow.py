"""A flow from submit to end: automatic nodes run at once, human nodes pause, an action
resumes; the log, the flow as data, the record's workflow status."""
from __future__ import annotations


import pytest

from runtime.workflow.errors import TaskConflict, WorkflowDenied
from tests.support.workflow_app import as_user, install, make_org, pending

FLOW = [
    {"key": "submit", "type": "start", "next": "route"},
    {"key": "route", "type": "exclusive", "branches": [{"when": "amount > 10000", "next": "head"}],
     "default": "finance"},
    {"key": "head", "type": "approve", "approvers": [{"department_head": "submitter"}], "next": "finance"},
    {"key": "finance", "type": "approve", "approvers": [{"role": "finance"}], "mode": "any", "next": "split"},
    {"key": "split", "type": "parallel", "branches": ["tell", "stamp"], "join": "joined"},
    {"key": "tell", "type": "cc", "approvers": [{"field": "owner"}], "next": "joined"},
    {"key": "stamp", "type": "action", "action": "set_fields", "set": {"status": '"approved"'}, "next": "joined"},
    {"key": "joined", "type": "join", "next": "done"},
    {"key": "done", "type": "end"},
]


@pytest.fixture
def world(db):
    install(db, FLOW)
    return make_org(db)


def test_a_big_expense_goes_through_the_head_then_finance_then_ends_approved(db, world):
    with db.begin() as conn:
        record, instance = as_user(conn, "ann").submit("office", "expenses",
                                                      {"title": "差旅", "amount": 20000, "owner": world["dan"]})
        assert instance["status"] == "running" and instance["current_nodes"] == ["head"]
        [task] = pending(conn, "bob")
        assert task["node_key"] == "head" and task["record_id"] == record["id"]
        assert pending(conn, "fay") == []
        as_user(conn, "bob").act(task["id"], "approve", comment="同意")
        [fay_task], [fred_task] = pending(conn, "fay"), pending(conn, "fred")
        done = as_user(conn, "fay").act(fay_task["id"], "approve")
        assert done["status"] == "approved" and done["current_nodes"] == []
        # mode any: fred's task went with fay's approval
        assert pending(conn, "fred") == []
        with pytest.raises(TaskConflict):
            as_user(conn, "fred").act(fred_task["id"], "approve")
        wf = as_user(conn, "ann")
        assert [t["node_key"] for t in as_user(conn, "dan").tasks("cc")] == ["tell"]
        assert wf.status_of("office", "expenses", [record["id"]]) == {record["id"]: "approved"}
        log = wf.log("office", "expenses", record["id"])
        assert [(e["node_key"], e["action"], e["account"]) for e in log] == [
            ("submit", "submit", "ann"), ("route", "branch", None), ("head", "approve", "bob"),
            ("finance", "approve", "fay"), ("tell", "cc", None), ("stamp", "set_fields", None),
            ("done", "approved", None)]
        assert log[2]["comment"] == "同意"
        assert log[5]["changes"] == {"status": {"from": None, "to": "approved"}}
        assert [t["instance_status"] for t in wf.tasks("started")] == ["approved"]


def test_a_small_expense_skips_the_head_by_the_default_branch(db, world):
    with db.begin() as conn:
        record, instance = as_user(conn, "ann").submit("office", "expenses", {"title": "文具", "amount": 50})
        assert instance["current_nodes"] == ["finance"]
        assert pending(conn, "bob") == []


def test_only_the_assignee_acts_and_the_flow_is_data_for_a_page(db, world):
    with db.begin() as conn:
        record, instance = as_user(conn, "ann").submit("office", "expenses", {"title": "差旅", "amount": 20000})
        [task] = pending(conn, "bob")
        with pytest.raises(WorkflowDenied) as refused:
            as_user(conn, "dan").act(task["id"], "approve")
        assert "not assigned to you" in str(refused.value)
        flow = as_user(conn, "ann").flow(instance["id"])
        states = {n["key"]: n["state"] for n in flow["nodes"]}
        assert states["submit"] == "done" and states["route"] == "done"
        assert states["head"] == "current" and states["finance"] == "ahead"
        assert {"from": "route", "to": "head", "label": "amount > 10000"} in flow["edges"]
        assert {"from": "route", "to": "finance", "label": "default"} in flow["edges"]
        assert flow["current"] == ["head"]

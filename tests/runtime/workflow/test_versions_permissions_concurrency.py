"""An instance keeps the definition version it started on; per-node field permissions;
two approvers at once (one wins, the other is told); a sub-flow on related records.
(SQL statements per action: test_statement_counts.py.)"""
from __future__ import annotations

import threading

import pytest
import yaml

from engine.validation import load_definition
from runtime.apps import apply_app, load_installed
from runtime.records import Records
from runtime.permissions.errors import PermissionDenied
from runtime.workflow.errors import TaskConflict
from tests.support.workflow_app import as_user, definition, install, make_org, pending

ONE = [{"key": "submit", "type": "start", "next": "check"},
       {"key": "check", "type": "approve", "approvers": [{"users": ["bob"]}],
        "fields": {"note": "editable", "secret": "hidden", "amount": "required"}, "next": "done"},
       {"key": "done", "type": "end"}]


def test_a_running_instance_keeps_its_version_after_an_upgrade(db):
    install(db, ONE)
    make_org(db)
    with db.begin() as conn:
        _, old = as_user(conn, "ann").submit("office", "expenses", {"title": "旧", "amount": 1})
    upgraded = [ONE[0], {**ONE[1], "next": "finance"},
                {"key": "finance", "type": "approve", "approvers": [{"role": "finance"}], "next": "done"}, ONE[2]]
    apply_app(db, load_definition(yaml.safe_dump(definition(upgraded), allow_unicode=True)))
    with db.begin() as conn:
        _, new = as_user(conn, "ann").submit("office", "expenses", {"title": "新", "amount": 1})
        assert (old["app_version"], new["app_version"]) == (1, 2)
        tasks = {t["record_id"]: t for t in pending(conn, "bob")}
        assert as_user(conn, "bob").act(tasks[old["record_id"]]["id"], "approve")["status"] == "approved"
        assert as_user(conn, "bob").act(tasks[new["record_id"]]["id"], "approve")["current_nodes"] == ["finance"]


def test_field_permissions_at_the_node(db):
    install(db, ONE)
    make_org(db)
    with db.begin() as conn:
        as_user(conn, "ann").submit("office", "expenses", {"title": "x", "secret": "内部", "amount": 5})
        [task] = pending(conn, "bob")
        bob = as_user(conn, "bob")
        access = bob.field_access(task["id"])
        assert (access["note"], access["secret"], access["amount"], access["title"]) == \
            ("editable", "hidden", "required", "visible")
        assert "secret" not in bob.task_record(task["id"]) and bob.task_record(task["id"])["title"] == "x"
        with pytest.raises(PermissionDenied, match="field 'title' cannot be changed at node 'check'"):
            bob.edit(task["id"], {"title": "改"})
        with pytest.raises(PermissionDenied):
            bob.edit(task["id"], {"secret": "看见"})
        changed = bob.edit(task["id"], {"note": "已核对", "amount": 6})
        assert changed["note"] == "已核对" and "secret" not in changed
        bob.edit(task["id"], {"amount": None})
        with pytest.raises(Exception, match="required fields first: amount"):
            bob.act(task["id"], "approve")


def test_edits_through_a_task_are_logged_with_their_changes(db):
    install(db, ONE)
    make_org(db)
    with db.begin() as conn:
        record, _ = as_user(conn, "ann").submit("office", "expenses", {"title": "x", "amount": 5})
        [task] = pending(conn, "bob")
        as_user(conn, "bob").edit(task["id"], {"note": "补"})
        entry = as_user(conn, "bob").log("office", "expenses", record["id"])[-1]
        assert (entry["action"], entry["changes"]) == ("edit", {"note": {"from": None, "to": "补"}})
        with pytest.raises(PermissionDenied, match="not assigned to you"):
            as_user(conn, "dan").edit(task["id"], {"note": "x"})


def test_two_approvers_at_once_one_wins_the_other_is_told(db):
    """Both of an any-mode node's approvers approve at the same moment, each in its own
    transaction: one approval ends the node, the other gets a clear conflict."""
    install(db, [ONE[0], {"key": "check", "type": "approve", "approvers": [{"users": ["bob", "dan"]}],
                          "next": "done"}, ONE[2]])
    make_org(db)
    with db.begin() as conn:
        as_user(conn, "ann").submit("office", "expenses", {"title": "x"})
        tasks = {"bob": pending(conn, "bob")[0]["id"], "dan": pending(conn, "dan")[0]["id"]}
    barrier, results = threading.Barrier(2), {}

    def approve(account):
        # Released together; on SQLite a writer's BEGIN IMMEDIATE queues the other one, on
        # PostgreSQL both run and meet at the instance's row lock.
        barrier.wait(timeout=30)
        try:
            with db.begin() as conn:
                results[account] = as_user(conn, account).act(tasks[account], "approve")["status"]
        except Exception as exc:        # the loser: a conflict, or the database's own refusal
            results[account] = exc
    threads = [threading.Thread(target=approve, args=(a,)) for a in tasks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    outcomes = sorted(results.values(), key=lambda r: isinstance(r, Exception))
    assert outcomes[0] == "approved", results
    loser = outcomes[1]
    assert isinstance(loser, TaskConflict) or "locked" in str(loser) or "could not serialize" in str(loser), loser
    with db.begin() as conn:
        log = as_user(conn, "ann").log("office", "expenses", 1)
        assert [e["action"] for e in log].count("approve") == 1


def test_the_same_task_twice_in_a_row_is_a_clear_error(db):
    install(db, ONE)
    make_org(db)
    with db.begin() as conn:
        as_user(conn, "ann").submit("office", "expenses", {"title": "x", "amount": 1})
        [task] = pending(conn, "bob")
        first, second = as_user(conn, "bob"), as_user(conn, "bob")
        first.act(task["id"], "approve")
        with pytest.raises(TaskConflict) as refused:
            second.act(task["id"], "approve")
        assert "is over" in str(refused.value) or "already been handled" in str(refused.value)


def test_a_sub_flow_on_related_records_waits_for_them_all(db):
    install(db, [{"key": "submit", "type": "start", "next": "lines"},
                 {"key": "lines", "type": "subflow", "form": "lines", "via": "expense", "workflow": "line_check",
                  "next": "done"}, {"key": "done", "type": "end"}], with_lines=True)
    make_org(db)
    with db.begin() as conn:
        wf = as_user(conn, "ann")
        record = Records(conn, load_installed(conn, "office")).create("expenses", {"title": "x"})
        Records(conn, load_installed(conn, "office")).bulk_create("lines", [
            {"expense": record["id"], "item": "机票"}, {"expense": record["id"], "item": "酒店"}])
        parent = wf.start("office", "expenses", record["id"])
        assert parent["current_nodes"] == ["lines"]
        first, second = pending(conn, "fay")
        as_user(conn, "fay").act(first["id"], "approve")
        assert wf.instance(parent["id"])["status"] == "running"
        as_user(conn, "fay").act(second["id"], "approve")
        assert wf.instance(parent["id"])["status"] == "approved"

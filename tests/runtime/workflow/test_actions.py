"""The actions on a task: return (previous, a chosen node, the submitter; again or not),
transfer, add a signer before or after, withdraw, urge, an admin's end and reassign."""
from __future__ import annotations

import pytest

from engine.storage import system
from runtime.workflow.errors import TaskConflict, WorkflowDenied, WorkflowRefused
from tests.support.workflow_app import as_user, install, make_org, pending

THREE = [
    {"key": "submit", "type": "start", "next": "one"},
    {"key": "one", "type": "approve", "approvers": [{"users": ["bob"]}], "next": "two"},
    {"key": "two", "type": "approve", "approvers": [{"users": ["dan"]}], "next": "three"},
    {"key": "three", "type": "approve", "approvers": [{"users": ["fay"]}], "next": "done"},
    {"key": "done", "type": "end"},
]


@pytest.fixture
def started(db):
    install(db, THREE)
    ids = make_org(db)
    with db.begin() as conn:
        record, instance = as_user(conn, "ann").submit("office", "expenses", {"title": "x"})
    return ids, record, instance


def act(db, account, action="approve", **options):
    with db.begin() as conn:
        [task] = pending(conn, account)
        return as_user(conn, account).act(task["id"], action, **options)


def now_at(db, instance_id) -> list[str]:
    with db.begin() as conn:
        return as_user(conn, None).instance(instance_id)["current_nodes"]


def test_return_to_the_previous_node_then_everyone_again(db, started):
    ids, record, instance = started
    act(db, "bob")
    act(db, "dan")
    act(db, "fay", "return", comment="金额不对")
    assert now_at(db, instance["id"]) == ["two"]
    act(db, "dan")
    assert now_at(db, instance["id"]) == ["three"]
    assert act(db, "fay")["status"] == "approved"


def test_return_to_a_chosen_node_skipping_the_nodes_between(db, started):
    ids, record, instance = started
    act(db, "bob")
    act(db, "dan")
    act(db, "fay", "return", to="one", again=False)
    assert now_at(db, instance["id"]) == ["one"]
    act(db, "bob")
    assert now_at(db, instance["id"]) == ["three"]      # two is not asked again


def test_return_to_the_submitter_who_resubmits(db, started):
    ids, record, instance = started
    act(db, "bob")
    act(db, "dan", "return", to="submitter")
    assert now_at(db, instance["id"]) == ["submit"]
    with db.begin() as conn:
        [task] = pending(conn, "ann")
        assert task["kind"] == "resubmit"
    act(db, "ann")
    assert now_at(db, instance["id"]) == ["one"]


def test_return_to_a_node_not_passed_is_refused(db, started):
    act(db, "bob")
    with pytest.raises(WorkflowRefused) as refused:
        act(db, "dan", "return", to="three")
    assert "return to one of: submitter, one" in str(refused.value)


def test_transfer_hands_the_task_over(db, started):
    ids, record, instance = started
    act(db, "bob", "transfer", user="carl")
    with db.begin() as conn:
        assert pending(conn, "bob") == []
        assert [t["node_key"] for t in as_user(conn, "bob").tasks("done")] == ["one"]
    act(db, "carl")
    assert now_at(db, instance["id"]) == ["two"]


def test_add_a_signer_before(db, started):
    ids, record, instance = started
    act(db, "bob", "add_before", user="carl")
    with db.begin() as conn:
        assert pending(conn, "bob") == []
    act(db, "carl")
    assert now_at(db, instance["id"]) == ["one"]
    act(db, "bob")
    assert now_at(db, instance["id"]) == ["two"]


def test_add_a_signer_after(db, started):
    ids, record, instance = started
    act(db, "bob", "add_after", user="carl")
    with db.begin() as conn:
        assert pending(conn, "carl") == []
    act(db, "bob")
    assert now_at(db, instance["id"]) == ["one"]
    act(db, "carl")
    assert now_at(db, instance["id"]) == ["two"]


def test_withdraw_while_nobody_has_acted(db, started):
    ids, record, instance = started
    with db.begin() as conn:
        [task] = pending(conn, "bob")
        with pytest.raises(WorkflowDenied, match="only the submitter"):
            as_user(conn, "dan").act(task["id"], "withdraw")
        assert as_user(conn, "ann").act(task["id"], "withdraw")["status"] == "withdrawn"
        assert pending(conn, "bob") == []


def test_no_withdraw_once_someone_acted(db, started):
    act(db, "bob")
    with db.begin() as conn:
        [task] = pending(conn, "dan")
        with pytest.raises(WorkflowRefused, match="Bob has acted on it already"):
            as_user(conn, "ann").act(task["id"], "withdraw")


def test_urge_records_a_reminder(db, started):
    ids, record, instance = started
    with db.begin() as conn:
        [task] = pending(conn, "bob")
        as_user(conn, "ann").act(task["id"], "urge", comment="请尽快")
        t = system.workflow_tasks
        assert conn.execute(t.select().where(t.c.id == task["id"])).first().remind_count == 1
        log = as_user(conn, "ann").log("office", "expenses", record["id"])
        assert (log[-1]["action"], log[-1]["changes"], log[-1]["account"]) == ("urge", {"users": [ids["bob"]]}, "ann")


def test_an_admin_ends_or_reassigns(db, started):
    ids, record, instance = started
    with db.begin() as conn:
        [task] = pending(conn, "bob")
        with pytest.raises(WorkflowDenied, match="only an admin"):
            as_user(conn, "dan").act(task["id"], "reassign", user="carl")
        as_user(conn, "root").act(task["id"], "reassign", user="carl")
        [task] = pending(conn, "carl")
        assert as_user(conn, "root").act(task["id"], "end", comment="作废")["status"] == "ended"
        with pytest.raises(TaskConflict, match="is over"):
            as_user(conn, "carl").act(task["id"], "approve")


def test_an_unknown_action_is_refused_with_a_did_you_mean(db, started):
    with db.begin() as conn:
        [task] = pending(conn, "bob")
        with pytest.raises(WorkflowRefused) as refused:
            as_user(conn, "bob").act(task["id"], "aprove")
        assert refused.value.suggestion == "approve"
        assert "未知的操作" in refused.value.message("zh")


def test_a_signature_where_the_node_asks_for_one(db):
    install(db, [{"key": "submit", "type": "start", "next": "sign"},
                 {"key": "sign", "type": "approve", "approvers": [{"users": ["bob"]}], "signature": True,
                  "next": "done"}, {"key": "done", "type": "end"}])
    make_org(db)
    with db.begin() as conn:
        as_user(conn, "ann").submit("office", "expenses", {"title": "x"})
        [task] = pending(conn, "bob")
        with pytest.raises(WorkflowRefused, match="asks for a signature"):
            as_user(conn, "bob").act(task["id"], "approve")
        assert as_user(conn, "bob").act(task["id"], "approve", signature=42)["status"] == "approved"
        t = system.workflow_tasks
        assert conn.execute(t.select().where(t.c.id == task["id"])).first().signature_file_id == 42

"""Who handles a node (every approver rule, the empty-result fallbacks, self-approval)
and how many must approve (any, all, sequential, share)."""
from __future__ import annotations

import pytest

from engine.storage import system
from runtime.workflow.errors import WorkflowDenied, WorkflowRefused
from tests.support.workflow_app import ORG, as_user, install, make_org, pending


def one_node(**node) -> list[dict]:
    return [{"key": "submit", "type": "start", "next": "n"},
            {"key": "n", "type": node.pop("type", "approve"), "next": "done", **node},
            {"key": "done", "type": "end"}]


def assignees(conn, instance_id: int, ids: dict[str, int]) -> list[str]:
    names = {ids[account]: account for account in ORG}
    t = system.workflow_tasks
    rows = conn.execute(t.select().where(t.c.instance_id == instance_id, t.c.status == "pending")
                        .order_by(t.c.slot)).all()
    return [names[r.assignee_id] for r in rows]


@pytest.mark.parametrize("rules, expected", [
    ([{"users": ["dan", "fay"]}], ["dan", "fay"]),
    ([{"role": "finance"}], ["fay", "fred"]),
    ([{"department_head": "submitter"}], ["bob"]),
    ([{"department_head": "dept"}], ["carl"]),
    ([{"manager": {"levels": 2}}], ["bob", "carl"]),
    ([{"manager": {"up_to_role": "director"}}], ["bob", "carl"]),
    ([{"field": "owner"}], ["dan"]),
    ([{"field": "dept"}], ["carl"]),
    ([{"role": "finance"}, {"users": ["fay", "dan"]}], ["fay", "fred", "dan"]),
], ids=lambda v: str(v)[:40])
def test_each_approver_rule(db, rules, expected):
    install(db, one_node(approvers=rules, mode="all"))
    ids = make_org(db)
    with db.begin() as conn:
        _, instance = as_user(conn, "ann").submit("office", "expenses",
                                                 {"title": "x", "owner": ids["dan"], "dept": ids["hq"]})
        assert assignees(conn, instance["id"], ids) == expected


def test_chosen_by_the_submitter(db):
    install(db, one_node(approvers=[{"chosen": True}]))
    ids = make_org(db)
    with db.begin() as conn:
        with pytest.raises(WorkflowRefused, match="choose them when starting"):
            as_user(conn, "ann").submit("office", "expenses", {"title": "x"})
    with db.begin() as conn:
        _, instance = as_user(conn, "ann").submit("office", "expenses", {"title": "x"}, chosen={"n": ["fred"]})
        assert assignees(conn, instance["id"], ids) == ["fred"]


def test_an_unknown_account_is_refused_with_a_did_you_mean(db):
    install(db, one_node(approvers=[{"users": ["fayy"]}]))
    make_org(db)
    with db.begin() as conn:
        with pytest.raises(WorkflowRefused) as refused:
            as_user(conn, "ann").submit("office", "expenses", {"title": "x"})
        assert refused.value.suggestion == "fay" and "fayy" in str(refused.value)


@pytest.mark.parametrize("fallback, status, who", [("admin", "running", ["root"]), ("skip", "approved", []),
                                                     ("stop", "ended", [])])
def test_nobody_found_falls_back(db, fallback, status, who):
    install(db, one_node(approvers=[{"field": "owner"}], if_none=fallback,
                         if_none_message={"zh": "请先指定负责人", "en": "set an owner first"}))
    ids = make_org(db)
    with db.begin() as conn:
        record, instance = as_user(conn, "ann").submit("office", "expenses", {"title": "x"})
        assert instance["status"] == status
        assert assignees(conn, instance["id"], ids) == who
        if fallback == "stop":
            log = as_user(conn, "ann").log("office", "expenses", record["id"])
            assert log[-1]["action"] == "end" and log[-1]["comment"] == "请先指定负责人"


def test_no_self_approval_unless_the_node_allows_it(db):
    install(db, one_node(approvers=[{"users": ["ann", "bob"]}], mode="all"))
    ids = make_org(db)
    with db.begin() as conn:
        _, instance = as_user(conn, "ann").submit("office", "expenses", {"title": "x"})
        assert assignees(conn, instance["id"], ids) == ["bob"]


def test_self_approval_where_allowed(db):
    install(db, one_node(approvers=[{"users": ["ann"]}], allow_self=True))
    make_org(db)
    with db.begin() as conn:
        as_user(conn, "ann").submit("office", "expenses", {"title": "x"})
        [task] = pending(conn, "ann")
        assert as_user(conn, "ann").act(task["id"], "approve")["status"] == "approved"


def test_self_approval_is_refused_when_an_admin_fallback_hands_it_to_the_submitter(db):
    install(db, one_node(approvers=[{"field": "owner"}], if_none="admin"))
    make_org(db)
    with db.begin() as conn:
        as_user(conn, "root").submit("office", "expenses", {"title": "x"})
        [task] = pending(conn, "root")
        with pytest.raises(WorkflowDenied, match="your own submission"):
            as_user(conn, "root").act(task["id"], "approve")


def _submit(db, **node):
    install(db, one_node(approvers=[{"users": ["bob", "dan", "fay", "fred"]}], **node))
    ids = make_org(db)
    with db.begin() as conn:
        _, instance = as_user(conn, "ann").submit("office", "expenses", {"title": "x"})
    return ids, instance


def _approve(db, account, action="approve"):
    with db.begin() as conn:
        [task] = pending(conn, account)
        return as_user(conn, account).act(task["id"], action)


def test_mode_any_one_approval_is_enough(db):
    _submit(db, mode="any")
    assert _approve(db, "dan")["status"] == "approved"


def test_mode_all_needs_everyone_and_one_rejection_rejects(db):
    _submit(db, mode="all")
    for account in ("bob", "dan", "fay"):
        assert _approve(db, account)["status"] == "running"
    assert _approve(db, "fred")["status"] == "approved"


def test_mode_all_rejected_by_one(db):
    _submit(db, mode="all")
    _approve(db, "bob")
    assert _approve(db, "dan", "reject")["status"] == "rejected"
    with db.begin() as conn:
        assert pending(conn, "fay") == [] and pending(conn, "fred") == []


def test_mode_sequential_one_after_another_in_order(db):
    ids, instance = _submit(db, mode="sequential")
    for account, following in (("bob", ["dan"]), ("dan", ["fay"]), ("fay", ["fred"])):
        with db.begin() as conn:
            assert assignees(conn, instance["id"], ids) == [account]
        _approve(db, account)
        with db.begin() as conn:
            assert assignees(conn, instance["id"], ids) == following
    assert _approve(db, "fred")["status"] == "approved"


def test_mode_share_half_must_approve(db):
    _submit(db, mode="share", share=50)
    assert _approve(db, "bob")["status"] == "running"
    assert _approve(db, "dan", "reject")["status"] == "running"
    assert _approve(db, "fay")["status"] == "approved"


def test_mode_share_rejected_once_the_share_cannot_be_reached(db):
    _submit(db, mode="share", share=75)
    _approve(db, "bob", "reject")
    assert _approve(db, "dan", "reject")["status"] == "rejected"


def test_a_fill_node_then_cc(db):
    install(db, [{"key": "submit", "type": "start", "next": "fill"},
                 {"key": "fill", "type": "fill", "approvers": [{"users": ["dan"]}], "fields": {"note": "required"},
                  "next": "tell"},
                 {"key": "tell", "type": "cc", "approvers": [{"role": "finance"}], "next": "done"},
                 {"key": "done", "type": "end"}])
    make_org(db)
    with db.begin() as conn:
        as_user(conn, "ann").submit("office", "expenses", {"title": "x"})
        [task] = pending(conn, "dan")
        with pytest.raises(WorkflowRefused, match="required fields first: note"):
            as_user(conn, "dan").act(task["id"], "approve")
        as_user(conn, "dan").edit(task["id"], {"note": "已补充"})
        assert as_user(conn, "dan").act(task["id"], "approve")["status"] == "approved"
        assert [t["node_key"] for t in as_user(conn, "fay").tasks("cc")] == ["tell"]
        assert [t["node_key"] for t in as_user(conn, "dan").tasks("done")] == ["fill"]

"""SQL statements per workflow action are constant: they do not grow with the form's
records and instances, with the instance's own history (returns, earlier rounds), or
with the number of a node's approvers; and each action stays within its budget
(bench/bench_approvals.py prints the same counts beside SpiffWorkflow's)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from engine.storage import system
from runtime.apps import load_installed
from runtime.org import Org
from runtime.records import Records
from tests.support.workflow_app import L, NOW, as_user, install, make_org, pending

FLOW = [{"key": "submit", "type": "start", "next": "one"},
        {"key": "one", "type": "approve", "approvers": [{"users": ["bob"]}], "next": "two"},
        {"key": "two", "type": "approve", "approvers": [{"users": ["dan"]}], "next": "done"},
        {"key": "done", "type": "end"}]

CROWD = [f"p{n:02d}" for n in range(20)]           # a node's approvers: 2 of them, or all 20
MODES = ("any", "all", "sequential")


def crowd_flow(mode: str, size: int) -> dict:
    return {"key": f"{mode}_{size}", "label": L(f"{mode} {size}"), "start": "manual", "nodes": [
        {"key": "s", "type": "start", "next": "many"},
        {"key": "many", "type": "approve", "mode": mode, "approvers": [{"users": CROWD[:size]}], "next": "e"},
        {"key": "e", "type": "end"}]}


# The most statements each action may take (what it takes today). `submit` creates the
# record (its insert, history and read back) and starts the flow.
BUDGET = {"submit": 8, "approve (next node)": 9, "approve (end)": 6, "reject": 7, "return": 10,
          "transfer": 8, "add_before": 8, "add_after": 7, "urge": 6, "withdraw": 7, "end": 6, "reassign": 8}


@pytest.fixture
def world(db):
    install(db, FLOW, extra_flows=[crowd_flow(mode, size) for mode in MODES for size in (2, 20)])
    ids = make_org(db)
    with db.begin() as conn:
        org = Org(conn)
        for account in CROWD:
            org.users.add(account, account.upper())
    return ids


def counted(db, count_statements, account, work):
    """Statements of `work(wf)` run as `account` in a transaction of its own."""
    with db.begin() as conn:
        wf = as_user(conn, account)
        with count_statements(db) as counter:
            work(wf)
    return counter.count


def task_of(db, account) -> int:
    with db.begin() as conn:
        return pending(conn, account)[0]["id"]


def submitted(db) -> int:
    with db.begin() as conn:
        record, _ = as_user(conn, "ann").submit("office", "expenses", {"title": "x", "amount": 1})
    return record["id"]


def action_counts(db, count_statements) -> dict[str, int]:
    """Each action once, on an instance of its own at the state it needs."""
    counts = {"submit": counted(db, count_statements, "ann",
                                lambda wf: wf.submit("office", "expenses", {"title": "x", "amount": 1}))}
    task = task_of(db, "bob")
    counts["approve (next node)"] = counted(db, count_statements, "bob", lambda wf: wf.act(task, "approve"))
    task = task_of(db, "dan")
    counts["approve (end)"] = counted(db, count_statements, "dan", lambda wf: wf.act(task, "approve"))
    for action, account, options in (("reject", "bob", {}), ("transfer", "bob", {"user": "dan"}),
                                     ("add_before", "bob", {"user": "dan"}), ("add_after", "bob", {"user": "dan"}),
                                     ("urge", "ann", {}), ("withdraw", "ann", {}), ("end", "root", {}),
                                     ("reassign", "root", {"user": "dan"})):
        submitted(db)
        task = task_of(db, "bob")
        counts[action] = counted(db, count_statements, account,
                                 lambda wf, a=action, t=task, o=options: wf.act(t, a, **o))
        if action in ("transfer", "add_before", "add_after", "urge", "reassign"):   # still running: end it
            with db.begin() as conn:
                as_user(conn, "root").act(task, "end")
    submitted(db)
    with db.begin() as conn:
        as_user(conn, "bob").act(pending(conn, "bob")[0]["id"], "approve")
    task = task_of(db, "dan")
    counts["return"] = counted(db, count_statements, "dan", lambda wf: wf.act(task, "return"))
    return counts


def fill(db, ids, records: int) -> None:
    """`records` more records of the form, each with a finished instance, its tasks and log."""
    with db.begin() as conn:
        created = Records(conn, load_installed(conn, "office")).bulk_create(
            "expenses", [{"title": f"r{n}", "amount": n} for n in range(records)])
        instance_ids = conn.execute(system.workflow_instances.insert().returning(system.workflow_instances.c.id), [
            {"app_key": "office", "form_key": "expenses", "record_id": r["id"], "workflow_key": "flow",
             "app_version": 1, "status": "approved", "current_nodes": [], "state": {"trail": ["one", "two"]},
             "started_by": ids["ann"], "started_at": NOW - timedelta(days=1), "ended_at": NOW}
            for r in created]).scalars().all()
        conn.execute(system.workflow_tasks.insert(), [
            {"instance_id": i, "node_key": node, "round": 1, "kind": "approve", "slot": 0,
             "assignee_id": ids[account], "status": "done", "action": "approve", "acted_by": ids[account],
             "acted_at": NOW, "created_at": NOW - timedelta(days=1)}
            for i in instance_ids for node, account in (("one", "bob"), ("two", "dan"))])
        conn.execute(system.workflow_log.insert(), [
            {"instance_id": i, "node_key": node, "user_id": ids[account] if account else None, "action": action,
             "at": NOW}
            for i in instance_ids for node, account, action in (
                ("submit", "ann", "submit"), ("one", "bob", "approve"), ("two", "dan", "approve"),
                ("done", None, "approved"))])


def test_statements_per_action_do_not_grow_with_the_forms_records_and_instances(db, world, count_statements):
    fill(db, world, 10)
    small = action_counts(db, count_statements)
    fill(db, world, 10_000)
    large = action_counts(db, count_statements)
    assert large == small
    over = {action: (n, BUDGET[action]) for action, n in small.items() if n > BUDGET[action]}
    assert not over, f"over budget (counted, budget): {over}"


def test_statements_per_action_do_not_grow_with_the_nodes_approvers(db, world, count_statements):
    """2 or 20 approvers at a node, in each mode: starting (the node's tasks are made),
    the first approval (any: the node is done; all: one more of 20; sequential: the
    next one's turn) and, for all and sequential, the last one cost the same."""
    with db.begin() as conn:
        record = Records(conn, load_installed(conn, "office")).create("expenses", {"title": "x"})
    for mode in MODES:
        counts = {}
        for size in (2, 20):
            flow = f"{mode}_{size}"
            steps = [counted(db, count_statements, "ann",
                             lambda wf, f=flow: wf.start("office", "expenses", record["id"], workflow=f))]
            for n, account in enumerate(CROWD[:size]):
                if mode == "any" and n > 0:
                    break
                task = task_of(db, account)
                cost = counted(db, count_statements, account, lambda wf, t=task: wf.act(t, "approve"))
                if n in (0, size - 1):
                    steps.append(cost)
            counts[size] = steps
        assert counts[2] == counts[20], (mode, counts)


def test_statements_per_action_do_not_grow_with_history(db, count_statements):
    """Return and approve the same node again and again: each approval costs the same
    number of statements, however many tasks and log rows the instance has."""
    install(db, FLOW)
    make_org(db)
    with db.begin() as conn:
        as_user(conn, "ann").submit("office", "expenses", {"title": "x"})
    counts = []
    for _ in range(4):
        with db.begin() as conn:
            [task] = pending(conn, "bob")
            wf = as_user(conn, "bob")
            with count_statements(db) as counter:
                wf.act(task["id"], "approve")
            counts.append(counter.count)
            [task] = pending(conn, "dan")
            as_user(conn, "dan").act(task["id"], "return")
    assert len(set(counts)) == 1 and counts[0] <= BUDGET["approve (next node)"], counts

"""Timeouts of tasks, fired by the scheduler (runtime/jobs: the due source in runtime/workflow/scheduling.py):

    fired = fire_due(conn, now, limit=100, on_event=uow.workflows.on_event)   # the scheduler's transaction

A pending task whose node has a `timeout:` carries its due time (`due_at`: the task's
creation plus `after`, or the record's date field). `fire_due` claims the due tasks in
one UPDATE that clears their due time only where it is still due (and, on PostgreSQL,
skips rows another scheduler holds), so two schedulers running at once fire each task
once; then it applies the node's timeout action:

    remind        a reminder is recorded (reminded_at, remind_count, the log); with
                  `repeat:` the task is due again `repeat` later
    auto_approve  the task is approved by the system
    auto_return   the task is returned to the previous node by the system
    escalate      the task is handed to the people of `to:` (a transfer by the system)

With `on_event` (the unit of work's, as interactive actions have it), an instance that a
timeout moves to a human node or ends raises the same workflow events, so the
"workflow reached a node / ended" automations run after a timeout too.

`next_due(conn)` is the earliest due time, for a scheduler that sleeps until then.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

import sqlalchemy as sa

from engine.errors import FormworkError
from engine.storage import system
from runtime.actor import Actor
from runtime.org import Org
from runtime.workflow import store
from runtime.workflow.approvers import Resolver
from runtime.workflow.service import Workflows

_t, _i, _u = system.workflow_tasks, system.workflow_instances, system.users


def claim_due(conn: sa.Connection, now: datetime, limit: int = 100) -> list[int]:
    """Ids of due pending tasks, claimed (their due time cleared) in one statement."""
    due = sa.select(_t.c.id).where(_t.c.status == "pending", _t.c.due_at <= now).order_by(_t.c.due_at).limit(limit)
    if conn.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    claimed = conn.execute(sa.update(_t).where(_t.c.id.in_(due.scalar_subquery()), _t.c.status == "pending",
                                               _t.c.due_at <= now)
                           .values(due_at=None).returning(_t.c.id))
    return sorted(claimed.scalars())


def fire_due(conn: sa.Connection, now: datetime, limit: int = 100,
             on_event: Callable[..., Any] | None = None) -> list[dict]:
    """Claim the tasks due at `now` and apply their nodes' timeout actions: what was done,
    per task ({"task", "action"}). `on_event`: told of the workflow events they raise
    (Workflows.on_event), in the savepoint of each timeout."""
    fired = []
    service = Workflows(conn, Actor.system(), now=now, on_event=on_event)
    for task_id in claim_due(conn, now, limit):
        task, run = service._task_run(task_id)
        timeout = run.workflow.node(task.node_key).timeout
        if timeout is None:
            continue
        outcome = {"task": task_id, "action": timeout.action, "instance": task.instance_id}
        try:
            with conn.begin_nested():       # one refused timeout does not stop the others
                _apply(service, conn, now, task, run, timeout)
        except FormworkError as exc:
            outcome["error"] = str(exc)
            run.logs = []
            run.log("timeout_failed", task.node_key, task_id=task_id, comment=str(exc), user_id=None)
            store.insert_log(conn, run.logs)
        fired.append(outcome)
    return fired


def _apply(service: Workflows, conn, now, task, run, timeout) -> None:
    if timeout.action == "remind":
        values = {"reminded_at": now, "remind_count": _t.c.remind_count + 1}
        if timeout.repeat is not None:
            values["due_at"] = now + timeout.repeat
        conn.execute(sa.update(_t).where(_t.c.id == task.id).values(**values))
        run.log("remind", task.node_key, task_id=task.id, changes={"user": task.assignee_id}, user_id=None)
        store.insert_log(conn, run.logs)
        return
    if timeout.action == "escalate":
        org = Org(conn, now=now)
        people = Resolver(org, run.values, run.row.started_by, {}).people(timeout.to, task.node_key)
        if not people:
            return
        account = conn.execute(sa.select(_u.c.account).where(_u.c.id == people[0])).scalar_one()
        service.act(task.id, "transfer", user=account, comment="timeout: escalated")
        return
    action = "approve" if timeout.action == "auto_approve" else "return"
    service.act(task.id, action, comment=f"timeout: {timeout.action}")


def next_due(conn: sa.Connection) -> datetime | None:
    return conn.execute(sa.select(sa.func.min(_t.c.due_at)).where(_t.c.status == "pending")).scalar()

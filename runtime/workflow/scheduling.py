"""Workflow timeouts on the scheduler (runtime/jobs): a due source that every scheduler
tick calls in a write transaction of its own. `fire_due` claims the due tasks in one
UPDATE (two schedulers never claim the same one) and applies each node's timeout action
in a savepoint of that transaction, so a timeout and its claim commit together: a
scheduler that dies mid-tick leaves the tasks due, and the next tick fires them once."""
from __future__ import annotations

from runtime.jobs.registry import register_due_source
from runtime.workflow.timeouts import fire_due

DUE_SOURCE = "workflow_timeouts"
BATCH = 200          # tasks per tick; what is left is due again at the next tick


def fire_due_timeouts(uow, now) -> int:
    """The tick's due timeouts, raising their workflow events to the unit of work's
    automations as an interactive action would (runtime/session.py: uow.workflows)."""
    return len(fire_due(uow.conn, now, limit=BATCH, on_event=uow.workflows.on_event))


register_due_source(DUE_SOURCE, fire_due_timeouts)

"""Jobs and the outbox: every effect that must happen after a change is a job row
written in the same transaction as the change (docs/jobs.md).

    from runtime import jobs

    jobs.register("notify_sales", notify_sales)          # handler(ctx, payload)
    with Session(engine).write() as uow:
        uow.enqueue("notify_sales", {"order": 7}, key="notify_sales:7")

The parts: registry (kinds, due sources, built-in schedules), outbox (the rows and the
statements that move them), runner (claim and run one job), dispatch (after commit:
inline or RQ), schedules (cron rows), and, importing runtime.session, worker (the RQ
side, `formwork worker`) and scheduler (`formwork scheduler`, drains).
"""
from runtime.jobs.context import JobContext
from runtime.jobs.outbox import DEAD, DONE, FAILED, QUEUED, RUNNING, STATUSES, Job
from runtime.jobs.registry import (
    KIND_MODULES, JobKind, UnknownJobKind, builtin_schedule, find_kind, kind_named, kinds, load_kinds,
    register, register_due_source, unregister, unregister_due_source,
)
from runtime.jobs.runner import LeaseLost
from runtime.jobs.schedules import BadCron, define_schedule, enable_schedule, remove_schedule

__all__ = [
    "JobContext", "Job", "LeaseLost", "JobKind", "UnknownJobKind", "BadCron", "KIND_MODULES",
    "QUEUED", "RUNNING", "DONE", "FAILED", "DEAD", "STATUSES",
    "register", "unregister", "register_due_source", "unregister_due_source", "builtin_schedule",
    "find_kind", "kind_named", "kinds", "load_kinds",
    "define_schedule", "remove_schedule", "enable_schedule",
]

"""Jobs as an administrator sees them: a page of the outbox, one job with what it did,
retrying and discarding a failed or dead job (the admin pages, web/admin/jobs.py).

    page = job_page(uow, status="failed", kind=None, before=None)   # newest first, keyset
    detail = job_detail(uow, 42)                                    # the job and its automation runs
    retry_job(uow, 42)      # failed/dead -> queued (attempts from 0), handed over after the commit
    discard_job(uow, 42)    # failed/dead -> gone

Every function asks the unit of work's actor to be a workspace administrator (the system
actor is one) and refuses others with PermissionDenied. Pages are keyset pages: `before`
is the smallest id of the previous page, so a page costs one indexed range scan however
deep it is (no OFFSET).

Retrying is one compare-and-set UPDATE (`outbox.requeue`): only a failed or dead row
moves to queued, so two admins pressing retry at once (or a retry racing the CLI's
`formwork jobs retry`) queue it once, and a queued or running job is never touched: a
job runs at most once per claim, whatever is pressed. Discarding is a DELETE under the
same condition; its idempotency key is free again afterwards, so the event that made it
may enqueue it anew.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from engine.errors import CodedError, NotFound
from engine.i18n import register_messages
from engine.storage import system
from runtime.jobs import outbox
from runtime.jobs.outbox import DEAD, FAILED, STATUSES, Job
from runtime.jobs.registry import kinds
from runtime.permissions.errors import PermissionDenied

PAGE_SIZE = 50
RETRYABLE = (FAILED, DEAD)

register_messages({
    "job_admin_only": {"zh": "只有工作区管理员可以查看和处理后台任务",
                       "en": "Only workspace administrators may see and handle background jobs"},
    "job_not_found": {"zh": "没有编号为 {id} 的后台任务（可能已被丢弃）；请回到任务列表查看",
                      "en": "There is no job #{id} (it may have been discarded); see the job list"},
    "job_not_retryable": {
        "zh": "任务 #{id} 现在的状态是“{status}”，只有失败或无法运行（dead）的任务可以重试或丢弃；请刷新页面查看",
        "en": "Job #{id} is {status} now; only failed or dead jobs can be retried or discarded; reload the page"},
    "job_bad_status": {"zh": "没有“{status}”这种任务状态；可用的状态：{choices}",
                       "en": "There is no job status '{status}'; the statuses are {choices}"},
})


class JobNotFound(CodedError, NotFound):
    def __init__(self, job_id: int):
        super().__init__("job_not_found", id=job_id)


class JobNotRetryable(CodedError):
    """The job is not failed or dead (any more): someone retried it, or it is running."""

    def __init__(self, job_id: int, status: str):
        super().__init__("job_not_retryable", id=job_id, status=status)


class BadJobStatus(CodedError):
    def __init__(self, status: str):
        super().__init__("job_bad_status", status=status, choices=", ".join(STATUSES))


@dataclass(frozen=True)
class JobPage:
    jobs: list[Job]
    next_before: int | None         # pass as `before` for the next (older) page; None: the last page
    status: str | None
    kind: str | None


def require_admin(actor) -> None:
    if not actor.is_admin:
        raise PermissionDenied("job_admin_only")


_j = system.jobs
_runs = system.automation_runs


def job_page(uow, *, status: str | None = None, kind: str | None = None, before: int | None = None,
             limit: int | None = None) -> JobPage:
    """The newest jobs first (by id), `limit` of them older than id `before`."""
    require_admin(uow.actor)
    limit = limit or PAGE_SIZE
    if status and status not in STATUSES:
        raise BadJobStatus(status)
    query = sa.select(_j).order_by(_j.c.id.desc()).limit(limit + 1)
    if status:
        query = query.where(_j.c.status == status)
    if kind:
        query = query.where(_j.c.kind == kind)
    if before is not None:
        query = query.where(_j.c.id < before)
    found = [Job.of(row) for row in uow.conn.execute(query)]
    more = len(found) > limit
    found = found[:limit]
    return JobPage(found, found[-1].id if more and found else None, status or None, kind or None)


def job_kinds() -> list[str]:
    """The kinds to filter by: every registered kind (no scan of the table)."""
    return sorted(kinds())


def job_detail(uow, job_id: int) -> dict[str, Any]:
    """The job, whether it may be retried, and the automation runs its attempts logged."""
    require_admin(uow.actor)
    job = outbox.get(uow.conn, job_id)
    if job is None:
        raise JobNotFound(job_id)
    runs = [dict(r) for r in uow.conn.execute(
        sa.select(_runs.c.id, _runs.c.app_key, _runs.c.automation_key, _runs.c.status, _runs.c.error,
                  _runs.c.duration_ms, _runs.c.created_at)
        .where(_runs.c.job_id == job_id).order_by(_runs.c.id)).mappings()]
    return {"job": job, "retryable": job.status in RETRYABLE, "runs": runs}


def retry_job(uow, job_id: int) -> Job:
    """Queue a failed or dead job again, its attempts from 0; it is handed to a runner once
    `uow` commits. JobNotRetryable when it is not failed or dead (any more)."""
    require_admin(uow.actor)
    ids = outbox.requeue(uow.conn, [job_id], now=outbox.utcnow())
    if not ids:
        raise _refusal(uow.conn, job_id)
    uow.hand_over_after_commit(ids)
    return outbox.get(uow.conn, job_id)


def discard_job(uow, job_id: int) -> None:
    """Delete a failed or dead job (JobNotRetryable when it is not failed or dead)."""
    require_admin(uow.actor)
    deleted = uow.conn.execute(_j.delete().where(_j.c.id == job_id, _j.c.status.in_(RETRYABLE))).rowcount
    if deleted != 1:
        raise _refusal(uow.conn, job_id)


def _refusal(conn, job_id: int) -> CodedError:
    job = outbox.get(conn, job_id)
    return JobNotFound(job_id) if job is None else JobNotRetryable(job_id, job.status)

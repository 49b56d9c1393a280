"""Running one job: claim it, run its handler, record how it went.

    status = run_job(engine, job_id, make_session)

`make_session(actor_id)` gives the runtime.session.Session the job acts through (the
session module passes its own; see runtime/jobs/worker.py). A handler's error is
recorded on the row (retried with backoff, then failed) and never raised: the caller is
the write that enqueued the job, an RQ worker or the scheduler, none of which should
fail for it. Only a failure to reach the database itself propagates.
"""
from __future__ import annotations

import logging
import traceback
from typing import Any, Callable

from sqlalchemy.engine import Engine

from runtime.jobs import outbox
from runtime.jobs.config import lease_seconds, runner_name
from runtime.jobs.context import JobContext
from runtime.jobs.registry import JobKind, find_kind

log = logging.getLogger("formwork.jobs")


class LeaseLost(Exception):
    """The job's lease passed to another runner while this one ran it (it ran longer than
    the lease): this run's writes are rolled back, the other run's stand."""


def run_job(engine: Engine, job_id: int, make_session: Callable[[int | None], Any], *,
            owner: str | None = None, lease: float | None = None) -> str | None:
    """Claim job `job_id` and run it; its new status, or None when it was not to be run
    by this call (another runner has it, it is finished, or it is not due yet)."""
    owner = owner or runner_name()
    with engine.begin() as conn:
        outbox.relax_commit(conn)
        job = outbox.claim(conn, job_id, owner, now=outbox.utcnow(), lease=lease or lease_seconds())
    if job is None:
        return None
    kind = find_kind(job.kind)
    if kind is None:
        with engine.begin() as conn:
            outbox.bury(conn, job, owner, f"no job kind {job.kind!r} is registered (runtime/jobs/registry.py "
                                          "KIND_MODULES lists the modules that register kinds)",
                        now=outbox.utcnow())
        return outbox.DEAD
    try:
        _run(engine, kind, job, owner, make_session)
    except Exception as exc:
        return _record_failure(engine, kind, job, owner, exc)
    return outbox.DONE


def _run(engine: Engine, kind: JobKind, job: outbox.Job, owner: str, make_session) -> None:
    session = make_session(job.actor_id)
    if kind.in_transaction:
        with session.write() as uow:
            kind.handler(JobContext(job, session, uow), job.payload)
            if not outbox.finish(uow.conn, job, owner, now=outbox.utcnow()):
                raise LeaseLost(f"job {job.id} ran past its lease and another runner took it")
        return
    kind.handler(JobContext(job, session, None), job.payload)
    with engine.begin() as conn:
        outbox.finish(conn, job, owner, now=outbox.utcnow())


def _record_failure(engine: Engine, kind: JobKind, job: outbox.Job, owner: str, exc: Exception) -> str | None:
    if isinstance(exc, LeaseLost):
        log.warning("%s", exc)
        return None
    error = "".join(traceback.format_exception(exc)).rstrip()
    retry_in = kind.delay_after(job.attempts) if job.attempts < job.max_attempts else None
    with engine.begin() as conn:
        outbox.relax_commit(conn)
        status = outbox.fail(conn, job, owner, error, retry_in=retry_in, now=outbox.utcnow())
    log.warning("job %s (%s) attempt %s failed (%s): %s", job.id, job.kind, job.attempts, status,
                f"{type(exc).__name__}: {exc}")
    return status

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
from runtime.jobs.registry import JobKind, find_kind, kinds

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
    return _run_one(engine, find_kind(job.kind), job, owner, make_session)


BATCH = 50      # jobs run in one transaction by run_jobs


def run_jobs(engine: Engine, job_ids: list[int], make_session: Callable[[int | None], Any], *,
             owner: str | None = None, lease: float | None = None, top_up: bool = False
             ) -> dict[int, str | None]:
    """run_job for many jobs at less cost: claimed in one statement per BATCH, and the
    in-transaction jobs of one actor run in one transaction, each in a savepoint of its
    own (a job that fails rolls back alone and is recorded in that transaction), so a
    batch is one commit instead of one per job. What the guarantees say of one job holds
    for each. With `top_up` (an RQ worker) the last batch is filled up to BATCH with jobs
    handed to RQ that no runner has yet (outbox.claim_handed_over): a worker behind a
    queue of one-job RQ jobs runs them fifty to a transaction, and those RQ jobs then
    find their rows taken. Returns each job's new status (None: not run by this call;
    the jobs topped up are in it too)."""
    owner = owner or runner_name()
    statuses: dict[int, str | None] = {job_id: None for job_id in job_ids}
    starts = list(range(0, len(job_ids), BATCH)) or [0]
    for start in starts:
        with engine.begin() as conn:
            outbox.relax_commit(conn)
            now, held = outbox.utcnow(), lease or lease_seconds()
            chunk = job_ids[start:start + BATCH]
            claimed = outbox.claim_many(conn, chunk, owner, now=now, lease=held) if chunk else []
            if top_up and start == starts[-1]:
                # only kinds that run in the batch's transaction: an import or a webhook
                # delivery keeps to its own RQ job (and its timeout)
                batchable = sorted(key for key, kind in kinds().items() if kind.in_transaction)
                claimed += outbox.claim_handed_over(conn, owner, kinds=batchable, now=now, lease=held,
                                                    limit=BATCH - len(claimed))
        statuses.update(_run_claimed(engine, claimed, owner, make_session))
    return statuses


def _run_claimed(engine: Engine, claimed: list[outbox.Job], owner: str, make_session) -> dict[int, str | None]:
    together: dict[int | None, list[tuple[JobKind, outbox.Job]]] = {}
    statuses: dict[int, str | None] = {}
    for job in claimed:
        kind = find_kind(job.kind)
        if kind is not None and kind.in_transaction:
            together.setdefault(job.actor_id, []).append((kind, job))
        else:
            statuses[job.id] = _run_one(engine, kind, job, owner, make_session)
    for actor_id, batch in together.items():
        try:
            statuses.update(_run_together(make_session(actor_id), batch, owner))
        except Exception as exc:    # the batch's transaction failed as a whole: each on its own
            if isinstance(exc, LeaseLost):
                log.warning("%s; running the batch of %d jobs one by one", exc, len(batch))
            else:
                log.exception("a batch of %d jobs failed as a whole; running them one by one", len(batch))
            statuses.update({job.id: _run_one(engine, kind, job, owner, make_session) for kind, job in batch})
    return statuses


def _run_together(session, batch: list[tuple[JobKind, outbox.Job]], owner: str) -> dict[int, str | None]:
    """The jobs of one actor in one transaction, each in a savepoint; those that succeed
    are marked done by one UPDATE at the end. When that UPDATE finds a job no longer this
    runner's (it ran past its lease), LeaseLost rolls the whole transaction back and the
    caller runs the batch one job at a time, where only that job's writes are lost."""
    statuses: dict[int, str | None] = {}
    with session.write() as uow:
        done: list[outbox.Job] = []
        for kind, job in batch:
            marks = len(uow._after_commit), len(uow._jobs), len(uow._inserts)
            try:
                with uow.conn.begin_nested():
                    kind.handler(JobContext(job, session, uow), job.payload)
                done.append(job)
            except Exception as exc:    # rolled back to the savepoint: this job's writes only
                del uow._after_commit[marks[0]:], uow._jobs[marks[1]:], uow._inserts[marks[2]:]
                statuses[job.id] = _failure(uow.conn, kind, job, owner, exc)
        finished = outbox.finish_many(uow.conn, done, owner, now=outbox.utcnow())
        if len(finished) != len(done):
            lost = sorted({job.id for job in done} - finished)
            raise LeaseLost(f"jobs {lost} ran past their lease and another runner took them")
        statuses.update({job.id: outbox.DONE for job in done})
    return statuses


def _run_one(engine: Engine, kind: JobKind | None, job: outbox.Job, owner: str, make_session) -> str | None:
    """A claimed job on its own (as run_job does after its claim)."""
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
    with engine.begin() as conn:
        outbox.relax_commit(conn)
        return _failure(conn, kind, job, owner, exc)


def _failure(conn, kind: JobKind, job: outbox.Job, owner: str, exc: Exception) -> str | None:
    """Record a failed attempt (retry with backoff, or failed) on `conn`."""
    error = "".join(traceback.format_exception(exc)).rstrip()
    retry_in = kind.delay_after(job.attempts) if job.attempts < job.max_attempts else None
    status = outbox.fail(conn, job, owner, error, retry_in=retry_in, now=outbox.utcnow())
    log.warning("job %s (%s) attempt %s failed (%s): %s", job.id, job.kind, job.attempts, status,
                f"{type(exc).__name__}: {exc}")
    return status

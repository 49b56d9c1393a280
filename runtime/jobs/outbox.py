"""The outbox: the fw_jobs rows and every statement that moves them along.

A job is INSERTed in the transaction of the change that asks for it (one statement,
ON CONFLICT (key) DO NOTHING, so a duplicate key is a no-op) and is then moved by
compare-and-set UPDATEs, each naming the state it expects, so two runners, two
schedulers or a job enqueued twice on RQ never run it twice:

    queued --claim--> running --finish--> done
                        |  \\--fail--> queued (run_at pushed) ... --> failed
                        \\-- lease expired (the process died) --> queued again
    unknown kind --> dead;  failed/dead --requeue (jobs retry)--> queued

Times are UTC; `now` is passed in so tests and the scheduler agree on it.
"""
from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

import sqlalchemy as sa

from engine.dialect import Dialect
from engine.storage import system

QUEUED, RUNNING, DONE, FAILED, DEAD = "queued", "running", "done", "failed", "dead"
STATUSES = (QUEUED, RUNNING, DONE, FAILED, DEAD)
ERROR_LIMIT = 8000              # characters of a traceback kept in last_error

_j = system.jobs


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Job:
    """One fw_jobs row."""
    id: int
    kind: str
    payload: Any
    key: str
    status: str
    attempts: int
    max_attempts: int
    run_at: datetime
    actor_id: int | None
    last_error: str | None
    lease_owner: str | None
    lease_until: datetime | None
    dispatched_at: datetime | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, row) -> "Job":
        return cls(**{name: row._mapping[name] for name in cls.__dataclass_fields__})


def insert(conn: sa.Connection, kind: str, payload: Any, *, key: str | None, run_at: datetime | None,
           actor_id: int | None, max_attempts: int, now: datetime, dispatched: bool) -> int | None:
    """Write one job; its id, or None when a job with `key` exists (nothing is written).
    `dispatched` says the caller hands it to a runner after the commit (so a scheduler
    leaves it alone unless that never happens: see due_for_dispatch)."""
    return conn.execute(_insert_statement(Dialect.of(conn)), {
        "kind": kind, "payload": payload, "key": key or f"uuid:{uuid.uuid4().hex}", "status": QUEUED,
        "attempts": 0, "max_attempts": max_attempts, "run_at": run_at or now, "actor_id": actor_id,
        "created_at": now, "dispatched_at": now if dispatched else None}).scalar()


@functools.cache
def _insert_statement(dialect: Dialect):
    """INSERT ... ON CONFLICT (key) DO NOTHING RETURNING id, built once per database
    (building it is most of what an enqueue costs in Python)."""
    return dialect.insert(_j).on_conflict_do_nothing(index_elements=["key"]).returning(_j.c.id)


def relax_commit(conn: sa.Connection) -> None:
    """Let this transaction commit without waiting for the disk (PostgreSQL; nothing to
    do on SQLite): for claims and failure records, whose loss in a server crash only
    means the job runs again. The job's own work commits as usual, and flushes these
    first."""
    statement = Dialect.of(conn).relaxed_commit
    if statement:
        conn.exec_driver_sql(statement)


def claim(conn: sa.Connection, job_id: int, owner: str, *, now: datetime, lease: float) -> Job | None:
    """Take job `job_id` to run it: queued and due, or running under a lease that has
    expired (its runner died). One UPDATE ... RETURNING; None when another runner has it,
    it is done, or it is not due yet."""
    row = conn.execute(_CLAIM, {"job_id": job_id, "now": now, "owner": owner,
                                "lease_until": now + timedelta(seconds=lease)}).first()
    return Job.of(row) if row is not None else None


def claim_many(conn: sa.Connection, job_ids: list[int], owner: str, *, now: datetime, lease: float) -> list[Job]:
    """claim() for many jobs in one UPDATE ... RETURNING: those this runner got, by id."""
    rows = conn.execute(_CLAIM_MANY, {"job_ids": list(job_ids), "now": now, "owner": owner,
                                      "lease_until": now + timedelta(seconds=lease)}).all()
    return sorted((Job.of(row) for row in rows), key=lambda job: job.id)


def claim_handed_over(conn: sa.Connection, owner: str, *, kinds: list[str], limit: int, now: datetime,
                      lease: float) -> list[Job]:
    """Claim up to `limit` more jobs of `kinds` that were handed to RQ and are due but that
    no runner has yet (their RQ jobs wait in the queue behind this one): an RQ worker tops
    its batch up with them, and their own RQ jobs then find them taken. One UPDATE ...
    RETURNING; on PostgreSQL FOR UPDATE SKIP LOCKED, so two workers take different rows
    and never wait for each other."""
    if limit <= 0 or not kinds:
        return []
    pick = (sa.select(_j.c.id).where(_j.c.status == QUEUED, _j.c.run_at <= now, _j.c.dispatched_at.is_not(None),
                                     _j.c.kind.in_(kinds), _j.c.attempts < _j.c.max_attempts)
            .order_by(_j.c.id).limit(limit))
    if Dialect.of(conn).row_locks:
        pick = pick.with_for_update(skip_locked=True)
    rows = conn.execute(_j.update().where(_j.c.id.in_(pick.scalar_subquery()), _j.c.status == QUEUED)
                        .values(status=RUNNING, attempts=_j.c.attempts + 1, lease_owner=owner,
                                lease_until=now + timedelta(seconds=lease), started_at=now)
                        .returning(*_j.c)).all()
    return sorted((Job.of(row) for row in rows), key=lambda job: job.id)


_now = sa.bindparam("now", type_=_j.c.run_at.type)
_CLAIM = (_j.update()
          .where(_j.c.id == sa.bindparam("job_id"), _j.c.attempts < _j.c.max_attempts,
                 sa.or_(sa.and_(_j.c.status == QUEUED, _j.c.run_at <= _now),
                        sa.and_(_j.c.status == RUNNING, _j.c.lease_until < _now)))
          .values(status=RUNNING, attempts=_j.c.attempts + 1, lease_owner=sa.bindparam("owner"),
                  lease_until=sa.bindparam("lease_until", type_=_j.c.lease_until.type), started_at=_now)
          .returning(*_j.c))


_CLAIM_MANY = (_j.update()
               .where(_j.c.id.in_(sa.bindparam("job_ids", expanding=True)), _j.c.attempts < _j.c.max_attempts,
                      sa.or_(sa.and_(_j.c.status == QUEUED, _j.c.run_at <= _now),
                             sa.and_(_j.c.status == RUNNING, _j.c.lease_until < _now)))
               .values(status=RUNNING, attempts=_j.c.attempts + 1, lease_owner=sa.bindparam("owner"),
                       lease_until=sa.bindparam("lease_until", type_=_j.c.lease_until.type), started_at=_now)
               .returning(*_j.c))


def finish(conn: sa.Connection, job: Job, owner: str, *, now: datetime) -> bool:
    """Mark a claimed job done; False when its lease went to another runner meanwhile
    (the caller then rolls back what the job did: the other run's effect stands)."""
    return conn.execute(_FINISH, {"job_id": job.id, "owner": owner, "now": now}).rowcount == 1


_FINISH = (_j.update()
           .where(_j.c.id == sa.bindparam("job_id"), _j.c.status == RUNNING, _j.c.lease_owner == sa.bindparam("owner"))
           .values(status=DONE, finished_at=_now, lease_owner=None, lease_until=None))


def finish_many(conn: sa.Connection, jobs: list[Job], owner: str, *, now: datetime) -> set[int]:
    """finish() for many jobs in one UPDATE ... RETURNING: the ids marked done (a job
    missing from them went to another runner meanwhile)."""
    if not jobs:
        return set()
    return set(conn.execute(_FINISH_MANY, {"job_ids": [job.id for job in jobs], "owner": owner, "now": now})
               .scalars())


_FINISH_MANY = (_j.update()
                .where(_j.c.id.in_(sa.bindparam("job_ids", expanding=True)), _j.c.status == RUNNING,
                       _j.c.lease_owner == sa.bindparam("owner"))
                .values(status=DONE, finished_at=_now, lease_owner=None, lease_until=None)
                .returning(_j.c.id))


def fail(conn: sa.Connection, job: Job, owner: str, error: str, *, retry_in: float | None,
         now: datetime) -> str | None:
    """Record a failed attempt: queued again `retry_in` seconds from now while attempts
    remain (retry_in None: no more attempts), else failed; the error kept either way.
    Returns the new status (None when the job was no longer this runner's)."""
    status = QUEUED if retry_in is not None and job.attempts < job.max_attempts else FAILED
    values: dict[str, Any] = dict(status=status, last_error=error[-ERROR_LIMIT:], lease_owner=None,
                                  lease_until=None, finished_at=now if status == FAILED else None)
    if status == QUEUED:
        values.update(run_at=now + timedelta(seconds=retry_in), dispatched_at=None)
    changed = conn.execute(_j.update().where(_j.c.id == job.id, _j.c.status == RUNNING,
                                             _j.c.lease_owner == owner).values(**values))
    return status if changed.rowcount == 1 else None


def bury(conn: sa.Connection, job: Job, owner: str, error: str, *, now: datetime) -> None:
    """A job nothing can run (its kind is registered nowhere): dead, with why."""
    conn.execute(_j.update().where(_j.c.id == job.id, _j.c.lease_owner == owner)
                 .values(status=DEAD, last_error=error, lease_owner=None, lease_until=None, finished_at=now))


def undispatch(conn: sa.Connection, ids: Iterable[int]) -> None:
    """Jobs that could not be handed to RQ (Redis down): the next drain takes them."""
    ids = list(ids)
    if ids:
        conn.execute(_j.update().where(_j.c.id.in_(ids), _j.c.status == QUEUED).values(dispatched_at=None))


def give_up_expired(conn: sa.Connection, *, now: datetime) -> int:
    """Running jobs whose lease expired with no attempt left (their runner died on each
    attempt): failed, saying so."""
    return conn.execute(_j.update().where(_j.c.status == RUNNING, _j.c.lease_until < now,
                                          _j.c.attempts >= _j.c.max_attempts)
                        .values(status=FAILED, lease_owner=None, lease_until=None, finished_at=now,
                                last_error="the process running it stopped before it finished, on "
                                           "every attempt (its lease expired)")).rowcount


def due_for_dispatch(conn: sa.Connection, *, now: datetime, redispatch_after: float, limit: int) -> list[int]:
    """Take up to `limit` jobs a runner should be given now, marking them handed over:
    queued and due that no runner was given (a delayed job, a retry, one whose hand-over
    to Redis failed) or was given more than `redispatch_after` seconds ago (the process
    died between commit and hand-over, Redis lost it), and running ones whose lease
    expired. One UPDATE ... RETURNING, so two schedulers take each job once."""
    stale = now - timedelta(seconds=redispatch_after)
    due = sa.or_(
        sa.and_(_j.c.status == QUEUED, _j.c.run_at <= now,
                sa.or_(_j.c.dispatched_at.is_(None), _j.c.dispatched_at < stale)),
        sa.and_(_j.c.status == RUNNING, _j.c.lease_until < now))
    pick = sa.select(_j.c.id).where(due).order_by(_j.c.run_at, _j.c.id).limit(limit)
    if Dialect.of(conn).row_locks:      # two schedulers each take other rows, never wait
        pick = pick.with_for_update(skip_locked=True)
    taken = conn.execute(_j.update().where(_j.c.id.in_(pick.scalar_subquery()), due)
                         .values(dispatched_at=now).returning(_j.c.id)).scalars().all()
    return sorted(taken)


def requeue(conn: sa.Connection, ids: Iterable[int] | None = None, *, failed: bool = False,
            now: datetime) -> list[int]:
    """Queue failed or dead jobs again (`formwork jobs retry`), with their attempts
    reset and their last error kept until they succeed: the jobs `ids`, or with
    `failed` every failed job. Returns the ids queued again."""
    where = [_j.c.status.in_([FAILED, DEAD])]
    if ids is not None:
        where.append(_j.c.id.in_(list(ids)))
    elif failed:
        where = [_j.c.status == FAILED]
    else:
        return []
    return sorted(conn.execute(_j.update().where(*where).values(
        status=QUEUED, attempts=0, run_at=now, dispatched_at=now, lease_owner=None, lease_until=None,
        finished_at=None).returning(_j.c.id)).scalars().all())


def get(conn: sa.Connection, job_id: int) -> Job | None:
    row = conn.execute(sa.select(_j).where(_j.c.id == job_id)).first()
    return Job.of(row) if row is not None else None


def listing(conn: sa.Connection, *, status: str | None = None, kind: str | None = None,
            limit: int = 50) -> list[Job]:
    """The newest jobs first, filtered by status and kind."""
    query = sa.select(_j).order_by(_j.c.id.desc()).limit(limit)
    if status:
        query = query.where(_j.c.status == status)
    if kind:
        query = query.where(_j.c.kind == kind)
    return [Job.of(row) for row in conn.execute(query)]


def counts(conn: sa.Connection) -> dict[str, int]:
    """How many jobs there are in each status."""
    rows = conn.execute(sa.select(_j.c.status, sa.func.count()).group_by(_j.c.status))
    return {status: n for status, n in rows}

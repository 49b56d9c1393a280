"""What a job handler is given: `handler(ctx, payload)`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from runtime.jobs import outbox
from runtime.jobs.outbox import Job


@dataclass(frozen=True)
class JobContext:
    """- ctx.job: the job's row (id, kind, key, payload, attempts, ...);
    - ctx.attempt: 1 on the first run, 2 on the first retry, ...;
    - ctx.session: a runtime.session.Session acting as the job's actor (the system, or
      the user given to `uow.enqueue(..., as_actor=True)`);
    - ctx.uow: the unit of work of the transaction that will mark the job done (kinds
      registered in_transaction, the default): write through it (`ctx.uow.records(app)`,
      `ctx.uow.org`, `ctx.uow.enqueue(...)` for follow-up jobs) and the writes commit with
      the job's status, or not at all. None for kinds registered in_transaction=False.
    - ctx.finish_in(conn): for an in_transaction=False kind whose work commits once, in a
      transaction of its own (an import): mark the job done in that transaction.
    """
    job: Job
    session: Any
    uow: Any | None

    @property
    def attempt(self) -> int:
        return self.job.attempts

    @property
    def payload(self) -> Any:
        return self.job.payload

    @property
    def engine(self):
        return self.session.engine

    def finish_in(self, conn) -> bool:
        """Mark this job done in the transaction of `conn`, the one that commits the job's
        work (a kind registered in_transaction=False that writes in one transaction of its
        own): the job's `done` then commits with that work or not at all, so a process
        killed after the commit does not run the job again, and one killed before leaves
        nothing to undo. False when the job's lease went to another runner meanwhile: the
        caller then rolls its work back (the other run's stands)."""
        return outbox.finish(conn, self.job, self.job.lease_owner, now=outbox.utcnow())

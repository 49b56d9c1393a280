"""What a job handler is given: `handler(ctx, payload)`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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

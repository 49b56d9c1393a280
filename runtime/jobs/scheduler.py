"""`formwork scheduler`: fires timed work from due times kept in the database.

Each tick (every `interval` seconds; `tick()` once for tests and `--once`):

1. drain: jobs due now that no runner has (delayed jobs whose run_at came, retries,
   jobs whose hand-over to Redis failed or was lost, jobs whose runner died under its
   lease) are handed to a runner: RQ with REDIS_URL, else run here;
2. cron schedules (runtime/jobs/schedules.py) whose next occurrence came fire their job;
3. due sources (registry.register_due_source: workflow timeouts, date triggers) claim
   their due items and enqueue jobs.

Every step claims with a compare-and-set or a lease, so two schedulers may run at once:
each job, occurrence and due item is taken by one of them.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine

from runtime.jobs import outbox
from runtime.jobs.dispatch import hand_over
from runtime.jobs.registry import builtin_schedules, due_sources
from runtime.jobs.schedules import ScheduleRow, add_missing_schedule, claim_occurrence, due_schedules
from runtime.session import Session

log = logging.getLogger("formwork.jobs")

REDISPATCH_AFTER = 300.0        # seconds a handed-over job may wait before it is handed over again
DRAIN_BATCH = 1000


@dataclass
class TickReport:
    jobs: int = 0                                   # jobs handed to a runner
    schedules: int = 0                              # cron occurrences fired
    sources: dict[str, int] = field(default_factory=dict)    # jobs enqueued per due source
    errors: list[str] = field(default_factory=list)


def tick(engine: Engine, *, now: datetime | None = None) -> TickReport:
    """One pass of the scheduler (see the module's docstring)."""
    now = now or outbox.utcnow()
    report = TickReport()
    report.schedules = fire_schedules(engine, now, report.errors)
    for name, source in due_sources().items():
        try:
            report.sources[name] = Session(engine).write(lambda uow, source=source: source(uow, now))
        except Exception as exc:
            log.exception("due source %s failed", name)
            report.errors.append(f"due source {name}: {type(exc).__name__}: {exc}")
    report.jobs = drain(engine, now=now)
    return report


def drain(engine: Engine, *, now: datetime | None = None, limit: int = DRAIN_BATCH,
          redispatch_after: float = REDISPATCH_AFTER) -> int:
    """Hand every job due at `now` that no runner has to one (RQ, or run here); how many.
    Stops early when Redis cannot take them (they wait for the next drain)."""
    now = now or outbox.utcnow()
    with engine.begin() as conn:
        outbox.give_up_expired(conn, now=now)
    make_session = Session(engine).job_session
    total = 0
    while True:
        with engine.begin() as conn:
            outbox.relax_commit(conn)       # lost in a crash: handed over again later
            ids = outbox.due_for_dispatch(conn, now=now, redispatch_after=redispatch_after, limit=limit)
        if not ids:
            return total
        if not hand_over(engine, ids, make_session):
            return total
        total += len(ids)
        if len(ids) < limit:
            return total


def fire_schedules(engine: Engine, now: datetime, errors: list[str] | None = None) -> int:
    """Fire each cron occurrence due at `now` once (built-in schedules added first when
    missing); how many fired here."""
    with engine.begin() as conn:
        for schedule in builtin_schedules().values():
            add_missing_schedule(conn, schedule.name, schedule.cron, schedule.kind, schedule.payload, now=now)
        due = due_schedules(conn, now)
    fired = 0
    for schedule in due:
        try:
            fired += Session(engine).write(lambda uow, schedule=schedule: _fire(uow, schedule, now))
        except Exception as exc:
            log.exception("schedule %s failed", schedule.name)
            if errors is not None:
                errors.append(f"schedule {schedule.name}: {type(exc).__name__}: {exc}")
    return fired


def _fire(uow, schedule: ScheduleRow, now: datetime) -> int:
    occurrence = claim_occurrence(uow.conn, schedule, now)
    if occurrence is None:
        return 0
    uow.enqueue(schedule.kind, schedule.payload, key=f"schedule:{schedule.name}:{occurrence.isoformat()}")
    return 1


def run_scheduler(engine: Engine, *, interval: float = 1.0, stop: threading.Event | None = None,
                  on_tick=None, survive_errors: bool = False) -> None:
    """Tick every `interval` seconds until `stop` is set (or the process is stopped). With
    `survive_errors` a tick that raises (the database unreachable for a while) is logged
    and the next tick comes as usual; without, the error ends the loop."""
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            report = tick(engine)
        except Exception:
            if not survive_errors:
                raise
            log.exception("a scheduler tick failed; the next one is in %.1f s", interval)
        else:
            if on_tick is not None:
                on_tick(report)
        stop.wait(interval)


def start_embedded_scheduler(engine: Engine, *, interval: float = 1.0,
                             stop: threading.Event | None = None) -> tuple[threading.Thread, threading.Event]:
    """The scheduler of `formwork serve` in embedded mode: run_scheduler in a daemon thread
    of the web process (it dies with the process; set the event to stop it sooner), its
    errors logged and survived. Safe beside other schedulers (each step claims)."""
    stop = stop or threading.Event()
    thread = threading.Thread(target=run_scheduler, name="formwork-scheduler", daemon=True, args=(engine,),
                              kwargs={"interval": interval, "stop": stop, "survive_errors": True})
    thread.start()
    return thread, stop

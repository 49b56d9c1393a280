"""`formwork jobs list|show|retry|drain|schedules`, `formwork worker`, `formwork scheduler`:
the outbox of background jobs (runtime/jobs, docs/jobs.md)."""
from __future__ import annotations

import json

import click

from engine.storage.db import read_connection
from engine.workspace import workspace_timezone
from runtime.jobs import STATUSES, outbox
from runtime.jobs.config import queue_name, redis_url
from runtime.jobs.scheduler import drain, run_scheduler, tick
from runtime.jobs.schedules import all_schedules
from runtime.jobs.worker import run_worker
from runtime.session import Session
from web.cli._common import with_engine


@click.group("jobs")
def jobs_group():
    """Background jobs: list them, show one, re-run failed ones, drain the queue."""


def _when(value) -> str:
    """A time in the workspace's time zone, with its offset."""
    return value.astimezone(workspace_timezone()).strftime("%Y-%m-%d %H:%M:%S%z") if value is not None else "-"


def _last_line(error: str | None) -> str:
    return error.strip().splitlines()[-1] if error else ""


@jobs_group.command("list")
@click.option("--status", type=click.Choice(STATUSES), default=None, help="Only jobs in this status.")
@click.option("--kind", default=None, help="Only jobs of this kind.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@with_engine
def list_command(engine, status, kind, limit):
    """The newest jobs first: id, status, kind, attempts, run at, last error."""
    with read_connection(engine) as conn:
        found = outbox.listing(conn, status=status, kind=kind, limit=limit)
        counts = outbox.counts(conn)
    if not found:
        click.echo("no jobs" + (f" with status {status}" if status else "") + (f" of kind {kind}" if kind else ""))
    for job in found:
        line = f"{job.id:>6}  {job.status:<7}  {job.kind:<24}  {job.attempts}/{job.max_attempts}  {_when(job.run_at)}"
        error = _last_line(job.last_error) if job.status != outbox.DONE else ""
        click.echo(f"{line}  {error}".rstrip())
    click.echo("total: " + (", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "0"))


@jobs_group.command("show")
@click.argument("job_id", type=int)
@with_engine
def show_command(engine, job_id):
    """Everything about job JOB_ID, with the full error of its last failed attempt."""
    with read_connection(engine) as conn:
        job = outbox.get(conn, job_id)
    if job is None:
        raise click.ClickException(f"there is no job {job_id}; `formwork jobs list` shows the jobs")
    for label, value in [("id", job.id), ("kind", job.kind), ("key", job.key), ("status", job.status),
                         ("attempts", f"{job.attempts} of {job.max_attempts}"),
                         ("run at", _when(job.run_at)), ("created", _when(job.created_at)),
                         ("started", _when(job.started_at)), ("finished", _when(job.finished_at)),
                         ("actor", job.actor_id if job.actor_id is not None else "system"),
                         ("lease", f"{job.lease_owner} until {_when(job.lease_until)}" if job.lease_owner else "-"),
                         ("payload", json.dumps(job.payload, ensure_ascii=False, sort_keys=True))]:
        click.echo(f"{label + ':':<10} {value}")
    if job.last_error:
        click.echo("last error:")
        click.echo(job.last_error)


@jobs_group.command("retry")
@click.argument("job_ids", type=int, nargs=-1)
@click.option("--failed", is_flag=True, help="Every failed job.")
@with_engine
def retry_command(engine, job_ids, failed):
    """Run failed (or dead) jobs JOB_IDS again, or with --failed every failed job: their
    attempts start again from 0."""
    if bool(job_ids) == failed:
        raise click.UsageError("give job ids or --failed (one of them)")
    with Session(engine).write() as uow:
        ids = outbox.requeue(uow.conn, list(job_ids) or None, failed=failed, now=outbox.utcnow())
        uow.hand_over_after_commit(ids)
    if not ids:
        click.echo("no failed or dead job to retry" + (f" among {', '.join(map(str, job_ids))}" if job_ids else ""))
        return
    with read_connection(engine) as conn:
        for job_id in ids:
            job = outbox.get(conn, job_id)
            click.echo(f"job {job_id} ({job.kind}): {job.status}" + (
                f"  {_last_line(job.last_error)}" if job.status not in (outbox.DONE, outbox.QUEUED) else ""))


@jobs_group.command("drain")
@with_engine
def drain_command(engine):
    """Hand every due job that no runner has to one now: to RQ when REDIS_URL is set,
    else run them here (after Redis was down, or for delayed jobs without a scheduler)."""
    count = drain(engine)
    where = f"put on RQ queue {queue_name()}" if redis_url() else "run"
    click.echo(f"{count} job(s) {where}")


@jobs_group.command("schedules")
@with_engine
def schedules_command(engine):
    """The cron schedules: name, cron, time zone, kind, next occurrence, enabled."""
    with read_connection(engine) as conn:
        found = all_schedules(conn)
    if not found:
        click.echo("no schedules (the scheduler adds the built-in ones when it first runs)")
    for s in found:
        click.echo(f"{s.name}  {s.cron!r} {s.timezone}  {s.kind}  next {_when(s.next_run_at)}"
                   + ("" if s.enabled else "  (disabled)"))


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@click.option("--queue", default=None, help="RQ queue (default FORMWORK_RQ_QUEUE or 'formwork').")
@click.option("--name", default=None, help="Worker name (default: RQ's).")
@with_engine
def worker_command(engine, burst, queue, name):
    """Run jobs from RQ (needs REDIS_URL). Several workers may run at once."""
    url = redis_url()
    if not url:
        raise click.UsageError("set REDIS_URL (redis://host:6379/0) to run a worker; without it jobs run "
                               "inline in the process that commits them")
    run_worker(engine, url, queue=queue, burst=burst, name=name)


@click.command("scheduler")
@click.option("--once", is_flag=True, help="One tick, then exit.")
@click.option("--interval", type=click.FloatRange(0.05, 3600), default=1.0, show_default=True,
              help="Seconds between ticks.")
@with_engine
def scheduler_command(engine, once, interval):
    """Fire timed work from the database: due and retried jobs, cron schedules, due sources.
    Two schedulers may run at once."""
    def report(result):
        if result.jobs or result.schedules or any(result.sources.values()) or result.errors:
            sources = ", ".join(f"{name} {n}" for name, n in result.sources.items() if n)
            click.echo(f"{result.jobs} job(s) handed over, {result.schedules} schedule(s) fired"
                       + (f", due sources: {sources}" if sources else ""))
        for error in result.errors:
            click.echo(f"error: {error}", err=True)
    if once:
        report(tick(engine))
        return
    run_scheduler(engine, interval=interval, on_tick=report)


COMMANDS = [jobs_group, worker_command, scheduler_command]

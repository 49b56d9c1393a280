"""`formwork automations runs APP [--failed]`, `formwork automations show RUN_ID`,
`formwork automations rerun RUN_ID`, `formwork automations sync APP`: the run log of
automations (runtime/automations, docs/automations.md)."""
from __future__ import annotations

import json

import click

from engine.storage.db import read_connection
from engine.workspace import workspace_timezone
from runtime.apps import load_installed
from runtime.automations import runs as run_log
from runtime.automations.triggers import sync_schedules
from runtime.session import AppNotInstalled, Session
from web.cli._common import with_engine


@click.group("automations")
def automations_group():
    """Automations: their run log, runs run again, cron schedules synced."""


def _when(value) -> str:
    return value.astimezone(workspace_timezone()).strftime("%Y-%m-%d %H:%M:%S") if value is not None else "-"


def _summary(run: dict) -> str:
    record = f"#{run['record_id']}" if run["record_id"] is not None else "-"
    line = (f"{run['id']:>6}  {run['status']:<7}  {run['automation_key']:<24}  {run['trigger']:<15}  "
            f"{record:<8}  depth {run['depth']}  {run['duration_ms'] or 0:.1f} ms  {_when(run['created_at'])}")
    return f"{line}  {run['error'] or ''}".rstrip()


@automations_group.command("runs")
@click.argument("app_key")
@click.option("--failed", is_flag=True, help="Only failed and stopped runs.")
@click.option("--automation", default=None, help="Only the runs of this automation.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@with_engine
def runs_command(engine, app_key, failed, automation, limit):
    """The newest runs first: id, status, automation, trigger, record, depth, duration, error."""
    with read_connection(engine) as conn:
        found = run_log.runs(conn, app_key, failed=failed, automation=automation, limit=limit)
    if not found:
        click.echo(f"no {'failed ' if failed else ''}runs of app {app_key}")
    for run in found:
        click.echo(_summary(run))


@automations_group.command("show")
@click.argument("run_id", type=int)
@with_engine
def show_command(engine, run_id):
    """One run: its inputs and each action's result or error."""
    with read_connection(engine) as conn:
        found = run_log.run(conn, run_id)
    if found is None:
        raise click.ClickException(f"there is no automation run #{run_id}")
    click.echo(_summary(found))
    click.echo("inputs: " + json.dumps(found["inputs"], ensure_ascii=False, sort_keys=True))
    for i, action in enumerate(found["actions"] or []):
        detail = action.get("error") or json.dumps(action.get("result"), ensure_ascii=False, sort_keys=True)
        click.echo(f"  action {i + 1} {action['kind']}: {action['status']}  {detail}")


@automations_group.command("rerun")
@click.argument("run_id", type=int)
@with_engine
def rerun_command(engine, run_id):
    """Run run RUN_ID's automation again with the same inputs."""
    job_id = run_log.rerun(Session(engine), run_id)
    with read_connection(engine) as conn:
        again = conn.execute(run_log.latest_rerun_query(run_id)).mappings().first()
    click.echo(f"run #{run_id} enqueued again as job {job_id}"
               + (f": run #{again['id']} {again['status']}" if again else ""))


@automations_group.command("sync")
@click.argument("app_key")
@with_engine
def sync_command(engine, app_key):
    """Create or update the cron schedules of APP's schedule automations now (the
    scheduler also does this when it sees a new installed version)."""
    with engine.begin() as conn:
        app = load_installed(conn, app_key)
        if app is None:
            raise AppNotInstalled(app_key)
        count = sync_schedules(conn, app)
    click.echo(f"{count} schedule(s) of app {app_key}")


COMMANDS = [automations_group]

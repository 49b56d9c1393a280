"""`formwork plan/apply/status/archived/purge-archived/seed`: installing and changing apps."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from engine.errors import DefinitionError
from engine.validation import load_definition, read_source
from runtime.apps import apply_app, archived_fields, installed_apps, plan_app, purge_archived
from runtime.change_preview import preview_lines
from runtime.seed import seed_app
from runtime.session import Session
from web.cli._common import with_engine


def _load(path: Path):
    try:
        return load_definition(path), read_source(path).decode("utf-8-sig")
    except DefinitionError as exc:
        for problem in exc.problems:
            click.echo(problem.format(), err=True)
        raise click.ClickException(f"{path}: {len(exc.problems)} problem(s); fix them first "
                                   f"(`formwork validate {path}`)") from None


def _print_report(report) -> None:
    if report.unchanged:
        click.echo(f"{report.plan.app_key}: no changes")
        return
    verb = "install" if report.plan.installing else "upgrade"
    click.echo(f"{report.plan.app_key}: {verb}, {len(report.plan.steps)} step(s)")
    for index, step in enumerate(report.plan.steps):
        mark = "!" if step.needs_confirmation else "-"
        click.echo(f" {mark} {step.description}")
        for line in preview_lines(report.previews.get(index)):
            click.echo(f"     {line}")
    for problem in report.blocking:
        click.echo(f" x {problem}")


@click.command("plan")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_engine
def plan_command(engine, file):
    """Show what `apply FILE` would change, with conversion previews. Changes nothing."""
    app, _ = _load(file)
    report = plan_app(engine, app)
    _print_report(report)
    if report.blocking:
        raise click.exceptions.Exit(1)


@click.command("apply")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Apply steps that archive or convert data without asking.")
@with_engine
def apply_command(engine, file, yes):
    """Install or upgrade the app defined in FILE (running it twice changes nothing)."""
    app, source = _load(file)
    report = plan_app(engine, app)
    _print_report(report)
    if report.unchanged:
        return
    if report.blocking:
        raise click.ClickException("nothing was changed")
    risky = [s for s in report.plan.steps if s.needs_confirmation]
    if risky and not yes:
        if not sys.stdin.isatty():
            raise click.ClickException(f"{len(risky)} step(s) archive or convert data: re-run with --yes")
        click.confirm("Apply these changes?", abort=True)

    def progress(what, done, total):
        click.echo(f"  {what}: {done:,}/{total:,} rows", err=True)
    result = apply_app(engine, app, source=source, progress=progress)
    click.echo(f"{app.key}: version {result['version']} installed")


@click.command("status")
@with_engine
def status_command(engine):
    """List installed apps with their forms and record counts."""
    with Session(engine).read() as uow:
        apps = installed_apps(uow.conn)
        if not apps:
            click.echo("no apps installed; install one with `formwork apply FILE`")
        for row in apps:
            records = uow.records(row["key"])
            app = records.app
            click.echo(f"{row['key']} ({row['label'].get('zh')}) version {row['current_version']}, "
                       f"{len(app.forms)} forms")
            for form in app.forms:
                count = records.count(form.key)
                shown = f"{count.value:,}" + ("" if count.exact else "+")
                click.echo(f"  {form.key:<24} {form.label.zh:<12} {shown:>10} records, {len(form.fields)} fields")


@click.command("archived")
@click.argument("app_key")
@with_engine
def archived_command(engine, app_key):
    """List archived fields and forms of an app (restorable until purged)."""
    rows = Session(engine).read(lambda uow: archived_fields(uow.conn, app_key))
    if not rows:
        click.echo(f"{app_key}: nothing archived")
    for row in rows:
        what = f"{row['form_key']}.{row['field_key']}" if row["field_key"] else row["form_key"]
        click.echo(f"#{row['id']:<5} {row['kind']:<10} {what:<36} archived {row['archived_at']:%Y-%m-%d %H:%M} "
                   f"as {row['physical_name']}")


@click.command("purge-archived")
@click.argument("app_key")
@click.argument("archive_id", type=int)
@click.option("--yes", is_flag=True, required=True, help="Confirm: the archived data is deleted for good.")
@with_engine
def purge_command(engine, app_key, archive_id, yes):
    """Delete one archived column or table for good."""
    row = purge_archived(engine, app_key, archive_id)
    click.echo(f"purged #{archive_id} ({row['physical_name']})")


@click.command("seed")
@click.argument("app_key")
@click.option("--scale", type=int, default=1000, show_default=True, help="Number of customers.")
@click.option("--seed", "seed_value", type=int, default=42, show_default=True)
@with_engine
def seed_command(engine, app_key, scale, seed_value):
    """Fill an installed app with realistic sample data (deterministic for a seed)."""
    last = {}

    def progress(form, done):
        if done - last.get(form, 0) >= 20000:
            click.echo(f"  {form}: {done:,}", err=True)
            last[form] = done
    counts = seed_app(engine, app_key, scale, seed=seed_value, progress=progress)
    for form, count in counts.items():
        click.echo(f"  {form:<24} {count:>10,}")


COMMANDS = [plan_command, apply_command, status_command, archived_command, purge_command, seed_command]

"""`formwork recompute`: recompute an installed app's formula and rollup fields."""
from __future__ import annotations

import click

from runtime.recompute import recompute_app
from web.cli._common import with_engine


@click.command("recompute")
@click.argument("app_key")
@click.argument("fields", nargs=-1)
@click.option("--volatile", is_flag=True, help="Only the fields that read the date (TODAY(), NOW(), "
              "rollups filtered by a date shortcut or by a formula calling TODAY()): run it every night.")
@click.option("--batch", type=click.IntRange(1, 100_000), default=2000, show_default=True,
              help="Records per batch.")
@with_engine
def recompute_command(engine, app_key, fields, volatile, batch):
    """Recompute FIELDS (form.field, form.subform.column; every computed field when none) and what reads them."""
    if volatile and fields:
        raise click.UsageError("give FIELDS or --volatile, not both")

    def progress(what, done, total):
        click.echo(f"  {what}: {done:,}/{total:,} records", err=True)
    result = recompute_app(engine, app_key, list(fields), volatile=volatile, progress=progress, batch=batch)
    if not result["fields"]:
        click.echo(f"{app_key}: no computed fields to recompute")
    for name, count in result["changed"].items():
        click.echo(f"{name}: {count:,} value(s) changed")


COMMANDS = [recompute_command]

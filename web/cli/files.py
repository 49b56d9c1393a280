"""`formwork files cleanup`: remove uploads no record holds, once they are a day old
(runtime/files.py cleanup_orphans).

    formwork files cleanup [--hours 24]
"""
from __future__ import annotations

from datetime import timedelta

import click

from runtime.files import cleanup_orphans, file_store
from web.cli._common import with_engine


@click.group("files")
def files_group() -> None:
    """Uploaded files."""


@files_group.command("cleanup")
@click.option("--hours", default=24, show_default=True, type=click.IntRange(1, None),
              help="Remove files nobody attached that are older than this.")
@click.option("--files-dir", envvar="FORMWORK_FILES_DIR", default=None,
              help="The file store (default: FORMWORK_FILES_DIR, else <instance>/files).")
@with_engine
def cleanup_command(engine, hours: int, files_dir: str | None) -> None:
    """Remove uploaded files that no record holds, older than --hours."""
    from_runtime = file_store(files_dir)
    with engine.begin() as conn:
        removed = cleanup_orphans(conn, from_runtime, older_than=timedelta(hours=hours))
    click.echo(f"removed {removed} unattached file(s) older than {hours} h")


COMMANDS = [files_group]

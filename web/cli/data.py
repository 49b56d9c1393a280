"""`formwork import` and `formwork export`: spreadsheets in and out."""
from __future__ import annotations

import json
import time
from pathlib import Path

import click

from runtime.import_export import export_records, import_file
from runtime.permissions import FULL_ACCESS
from runtime.session import Session
from web.cli._common import lang_option, with_engine

PROGRESS_EVERY = 2.0   # seconds between progress lines
SHOWN_PROBLEMS = 50


def _progress(label: str):
    """A progress callback printing to stderr at most every PROGRESS_EVERY seconds, and at the end."""
    last = [time.monotonic()]

    def report(done: int, fraction: float | None = None) -> None:
        now = time.monotonic()
        if now - last[0] < PROGRESS_EVERY and fraction != 1.0:
            return
        last[0] = now
        share = f" ({fraction:.0%})" if fraction is not None else ""
        click.echo(f"  {label} {done:,} rows{share}", err=True)
    return report


@click.command("import")
@click.argument("app_key")
@click.argument("form_key")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every cell and report; write nothing.")
@click.option("--skip-bad-rows", is_flag=True, help="Keep the good rows; report the bad ones.")
@click.option("--mapping", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="YAML/JSON file mapping column headers to field keys.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write every refused cell to this CSV (default: FILE.errors.csv when rows are refused).")
@click.option("--sheet", help="The sheet of an .xlsx file (default: the first).")
@lang_option
@click.option("--user-id", type=int, help="Record the import as this user.")
@with_engine
def import_command(engine, app_key, form_key, file, dry_run, skip_bad_rows, mapping, report_path,
                   sheet, lang, user_id):
    """Import FILE (.csv or .xlsx) into a form. Exits 1 when rows were refused (every refused
    cell is in the report file), 2 when the file or its columns cannot be used at all."""
    report_path = report_path or file.with_name(file.name + ".errors.csv")
    # The import owns its transactions (a pass per read of the file, rolled back for a
    # dry run, run again on contention): the session gives it the actor.
    actor = Session.for_user(engine, user_id, lang=lang).actor
    report = import_file(engine, app_key, form_key, file, dry_run=dry_run, skip_bad_rows=skip_bad_rows,
                         mapping=mapping, report_path=report_path, actor=actor, lang=lang,
                         sheet=sheet, progress=_progress("read"), policy=FULL_ACCESS)
    for note in report.notes:
        click.echo(f"note: {note}")
    for p in sorted(report.problems, key=lambda p: (p.sheet, p.row))[:SHOWN_PROBLEMS]:
        sheet = f"sheet {p.sheet!r}, " if p.sheet else ""
        click.echo(f"{sheet}row {p.row}, column {p.column!r}, value {p.value!r}: {p.reason}")
    if report.problem_count > SHOWN_PROBLEMS:
        click.echo(f"... {report.problem_count - SHOWN_PROBLEMS:,} more problems in {report.report_file}")
    if dry_run:
        verdict = "dry run: nothing written"
    elif report.committed:
        verdict = f"imported {report.rows_imported:,} rows"
    else:
        verdict = "nothing imported (all or nothing: fix the rows above, or use --skip-bad-rows)"
    speed = f" ({report.rows_read / report.seconds:,.0f} rows/s)" if report.rows_read >= 1000 else ""
    orphans = f", {report.orphan_rows:,} subform rows without a record" if report.orphan_rows else ""
    click.echo(f"{verdict}; read {report.rows_read:,}, valid {report.rows_valid:,}, refused "
               f"{report.rows_refused:,}{orphans} in {report.seconds:.1f}s{speed}")
    if report.problem_count:
        click.echo(f"every refused cell: {report.report_file}")
    elif report_path.exists() and report.report_file == str(report_path):
        report_path.unlink()   # nothing to report: leave no empty report behind
    if not report.ok:
        raise click.exceptions.Exit(1)


@click.command("export")
@click.argument("app_key")
@click.argument("form_key")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), help="Default: from the file name.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--filter", "filter_json", help="Filter JSON (see docs/records.md).")
@click.option("--sort", help="Sort keys, e.g. '-amount,name'.")
@lang_option
@with_engine
def export_command(engine, app_key, form_key, fmt, output, filter_json, sort, lang):
    """Export the (filtered) records of a form to .xlsx or .csv."""
    try:
        filter_doc = json.loads(filter_json) if filter_json else None
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"--filter is not valid JSON: {exc.msg} at column {exc.colno}") from None
    count = export_records(engine, app_key, form_key, output, fmt, filter=filter_doc, sort=sort, lang=lang,
                           progress=_progress("written"))
    click.echo(f"exported {count:,} records to {output}")


COMMANDS = [import_command, export_command]

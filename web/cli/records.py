"""`formwork records ...`: create, edit, find, delete and restore records."""
from __future__ import annotations

import json
import sys

import click

from engine.errors import RecordValidationError
from engine.storage.db import read_connection
from runtime.apps import load_installed
from runtime.records import Records, write_transaction
from runtime.records.serialize import history_to_json, record_to_json
from web.cli._common import with_engine


def _json_arg(text: str | None, what: str):
    if text is None or text == "-":
        text = sys.stdin.read()
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"{what} is not valid JSON: {exc.msg} at line {exc.lineno} "
                                 f"column {exc.colno}") from None


def _app(conn, app_key: str):
    app = load_installed(conn, app_key)
    if app is None:
        raise click.ClickException(f"app {app_key!r} is not installed; run `formwork apply FILE` first")
    return app


def _echo(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _validation_exit(exc: RecordValidationError) -> None:
    _echo(exc.as_dict("en"))
    raise click.exceptions.Exit(1)


@click.group()
def records() -> None:
    """Create, edit, find, delete and restore the records of a form."""


@records.command("list")
@click.argument("app_key")
@click.argument("form_key")
@click.option("--filter", "filter_json", help='Filter JSON, e.g. \'{"field":"amount","op":"gte","value":100}\'.')
@click.option("--sort", help="Sort keys, e.g. '-amount,name' (- for descending).")
@click.option("--search", help="Text to look for in the text fields.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 500))
@click.option("--cursor", help="The next_cursor printed by the previous page.")
@click.option("--deleted", is_flag=True, help="List the recycle bin instead.")
@with_engine
def list_records(engine, app_key, form_key, filter_json, sort, search, limit, cursor, deleted):
    """Print one page of records as JSON (with the count and the next page's cursor)."""
    with read_connection(engine) as conn:
        app = _app(conn, app_key)
        page = Records(conn, app).list(
            form_key, filter=_json_arg(filter_json, "--filter") if filter_json else None,
            sort=sort, search=search, page_size=limit, cursor=cursor, deleted=deleted)
        _echo({"count": None if page.count is None else page.count.__dict__,
               "next_cursor": page.next_cursor,
               "records": [record_to_json(app, form_key, r) for r in page.records]})


@records.command("get")
@click.argument("app_key")
@click.argument("form_key")
@click.argument("record_id", type=int)
@click.option("--deleted", is_flag=True, help="Also find it in the recycle bin.")
@with_engine
def get_record(engine, app_key, form_key, record_id, deleted):
    """Print one record."""
    with read_connection(engine) as conn:
        app = _app(conn, app_key)
        _echo(record_to_json(app, form_key, Records(conn, app).get(form_key, record_id,
                                                                   include_deleted=deleted)))


@records.command("create")
@click.argument("app_key")
@click.argument("form_key")
@click.option("--data", help="The field values as a JSON object (or a list for several); - or none reads stdin.")
@click.option("--user-id", type=int, help="Act as this user (recorded in the history).")
@with_engine
def create_record(engine, app_key, form_key, data, user_id):
    """Create one record, or several from a JSON list (all or nothing)."""
    values = _json_arg(data, "--data")

    def work(conn):
        app = _app(conn, app_key)
        service = Records(conn, app, user_id=user_id)
        created = service.bulk_create(form_key, values) if isinstance(values, list) \
            else [service.create(form_key, values)]
        return [record_to_json(app, form_key, r) for r in created]
    try:
        out = write_transaction(engine, work)
    except RecordValidationError as exc:
        _validation_exit(exc)
    _echo(out if isinstance(values, list) else out[0])


@records.command("update")
@click.argument("app_key")
@click.argument("form_key")
@click.argument("record_id", type=int)
@click.option("--data", help="The changed field values as a JSON object; - or none reads stdin.")
@click.option("--version", "expected_version", type=int,
              help="Refuse the change if the record is no longer at this version.")
@click.option("--user-id", type=int)
@with_engine
def update_record(engine, app_key, form_key, record_id, data, expected_version, user_id):
    """Change some fields of a record (the others keep their values)."""
    changes = _json_arg(data, "--data")
    if not isinstance(changes, dict):
        raise click.BadParameter("--data must be a JSON object of field values")

    def work(conn):
        app = _app(conn, app_key)
        rec = Records(conn, app, user_id=user_id).update(form_key, record_id, changes, expected_version)
        return record_to_json(app, form_key, rec)
    try:
        out = write_transaction(engine, work)
    except RecordValidationError as exc:
        _validation_exit(exc)
    _echo(out)


def _bin_command(name: str, method: str, help_text: str):
    @records.command(name, help=help_text)
    @click.argument("app_key")
    @click.argument("form_key")
    @click.argument("record_ids", type=int, nargs=-1, required=True)
    @click.option("--user-id", type=int)
    @with_engine
    def command(engine, app_key, form_key, record_ids, user_id):
        def work(conn):
            app = _app(conn, app_key)
            return getattr(Records(conn, app, user_id=user_id), method)(form_key, list(record_ids))
        try:
            done = write_transaction(engine, work)
        except RecordValidationError as exc:
            _validation_exit(exc)
        click.echo(f"{name}: {done} record(s) of {form_key}")
    return command


_bin_command("delete", "delete", "Move records to the recycle bin.")
_bin_command("restore", "restore", "Bring records back from the recycle bin.")
_bin_command("purge", "purge", "Delete records in the recycle bin for good.")


@records.command("history")
@click.argument("app_key")
@click.argument("form_key")
@click.argument("record_id", type=int)
@with_engine
def record_history(engine, app_key, form_key, record_id):
    """Print every change of a record: who, when, from -> to."""
    with read_connection(engine) as conn:
        app = _app(conn, app_key)
        _echo(history_to_json(Records(conn, app).history(form_key, record_id)))


COMMANDS = [records]

"""`formwork records ...`: create, edit, find, delete and restore records.

Every command works through one unit of work (runtime/session.py): reads in a read-only
transaction, writes in a transaction run again when other writers made the database
abort it. Writes act as `--user-id` (or the system). The JSON answers (the messages of
refused values, titles of related records) are in `--lang`, by default the workspace
language; `error:` lines are in English, as for every command.
"""
from __future__ import annotations

import json
import sys

import click

from engine.errors import RecordValidationError
from runtime.permissions import FULL_ACCESS
from runtime.records.serialize import history_to_json, record_to_json
from runtime.session import AppNotInstalled, Session
from web.cli._common import lang_option, with_engine


def _json_arg(text: str | None, what: str):
    if text is None or text == "-":
        text = sys.stdin.read()
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"{what} is not valid JSON: {exc.msg} at line {exc.lineno} "
                                 f"column {exc.colno}") from None


def _records(uow, app_key: str):
    """The record service of the app; an app that is not installed exits 1."""
    try:
        return uow.records(app_key)
    except AppNotInstalled as exc:
        raise click.ClickException(exc.message("en")) from None


def _echo(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _validation_exit(exc: RecordValidationError, lang: str) -> None:
    _echo(exc.as_dict(lang))
    raise click.exceptions.Exit(1)


def _write(engine, user_id: int | None, lang: str, work):
    """`work(uow)` in a write unit of work as the user (or the system), run again on
    contention; values the record service refused are printed as JSON and exit 1."""
    try:
        # The command line is the installation's own tool: --user-id says whose name the
        # change is recorded under, not whose permissions apply (FULL_ACCESS).
        return Session.for_user(engine, user_id, lang=lang, policy=FULL_ACCESS).write(work)
    except RecordValidationError as exc:
        _validation_exit(exc, lang)


def _read(engine, lang: str, work):
    return Session.for_user(engine, None, lang=lang).read(work)


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
@lang_option
@with_engine
def list_records(engine, app_key, form_key, filter_json, sort, search, limit, cursor, deleted, lang):
    """Print one page of records as JSON (with the count and the next page's cursor)."""
    filter_doc = _json_arg(filter_json, "--filter") if filter_json else None

    def work(uow):
        records = _records(uow, app_key)
        page = records.list(form_key, filter=filter_doc, sort=sort, search=search, page_size=limit,
                            cursor=cursor, deleted=deleted)
        return {"count": None if page.count is None else page.count.__dict__,
                "next_cursor": page.next_cursor,
                "records": [record_to_json(records.app, form_key, r) for r in page.records]}
    _echo(_read(engine, lang, work))


@records.command("get")
@click.argument("app_key")
@click.argument("form_key")
@click.argument("record_id", type=int)
@click.option("--deleted", is_flag=True, help="Also find it in the recycle bin.")
@lang_option
@with_engine
def get_record(engine, app_key, form_key, record_id, deleted, lang):
    """Print one record."""
    def work(uow):
        records = _records(uow, app_key)
        return record_to_json(records.app, form_key, records.get(form_key, record_id, include_deleted=deleted))
    _echo(_read(engine, lang, work))


@records.command("create")
@click.argument("app_key")
@click.argument("form_key")
@click.option("--data", help="The field values as a JSON object (or a list for several); - or none reads stdin.")
@click.option("--user-id", type=int, help="Act as this user (recorded in the history).")
@lang_option
@with_engine
def create_record(engine, app_key, form_key, data, user_id, lang):
    """Create one record, or several from a JSON list (all or nothing)."""
    values = _json_arg(data, "--data")

    def work(uow):
        service = _records(uow, app_key)
        created = service.bulk_create(form_key, values) if isinstance(values, list) \
            else [service.create(form_key, values)]
        return [record_to_json(service.app, form_key, r) for r in created]
    out = _write(engine, user_id, lang, work)
    _echo(out if isinstance(values, list) else out[0])


@records.command("update")
@click.argument("app_key")
@click.argument("form_key")
@click.argument("record_id", type=int)
@click.option("--data", help="The changed field values as a JSON object; - or none reads stdin.")
@click.option("--version", "expected_version", type=int,
              help="Refuse the change if the record is no longer at this version.")
@click.option("--user-id", type=int, help="Act as this user (recorded in the history).")
@lang_option
@with_engine
def update_record(engine, app_key, form_key, record_id, data, expected_version, user_id, lang):
    """Change some fields of a record (the others keep their values)."""
    changes = _json_arg(data, "--data")
    if not isinstance(changes, dict):
        raise click.BadParameter("--data must be a JSON object of field values")

    def work(uow):
        service = _records(uow, app_key)
        return record_to_json(service.app, form_key,
                              service.update(form_key, record_id, changes, expected_version))
    _echo(_write(engine, user_id, lang, work))


def _bin_command(name: str, method: str, help_text: str):
    @records.command(name, help=help_text)
    @click.argument("app_key")
    @click.argument("form_key")
    @click.argument("record_ids", type=int, nargs=-1, required=True)
    @click.option("--user-id", type=int, help="Act as this user (recorded in the history).")
    @lang_option
    @with_engine
    def command(engine, app_key, form_key, record_ids, user_id, lang):
        done = _write(engine, user_id, lang,
                      lambda uow: getattr(_records(uow, app_key), method)(form_key, list(record_ids)))
        click.echo(f"{name}: {done} record(s) of {form_key}")
    return command


_bin_command("delete", "delete", "Move records to the recycle bin.")
_bin_command("restore", "restore", "Bring records back from the recycle bin.")
_bin_command("purge", "purge", "Delete records in the recycle bin for good.")


@records.command("history")
@click.argument("app_key")
@click.argument("form_key")
@click.argument("record_id", type=int)
@lang_option
@with_engine
def record_history(engine, app_key, form_key, record_id, lang):
    """Print every change of a record: who, when, from -> to."""
    _echo(_read(engine, lang, lambda uow: history_to_json(_records(uow, app_key).history(form_key, record_id))))


COMMANDS = [records]

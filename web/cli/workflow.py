"""`formwork tasks`, `formwork task` and `formwork workflow`: workflows for scripts.

    formwork tasks ACCOUNT [--status pending|done|started|cc]
    formwork task ID ACTION --as ACCOUNT [--comment TEXT] [--to NODE] [--user ACCOUNT] [--no-again]
    formwork workflow start APP FORM RECORD_ID --as ACCOUNT [--workflow KEY]
    formwork workflow log APP FORM RECORD_ID
    formwork workflow flow INSTANCE_ID
    formwork workflow fire-due [--at ISO]         (what the scheduler does, once)

Each command runs in one transaction as the person named (runtime/session.py).
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

import click

from engine.errors import FormworkError
from runtime.session import Session
from runtime.workflow import ACTIONS, BOXES, fire_due
from web.cli._common import lang_option, with_engine


def _refused(exc: FormworkError, lang: str) -> None:
    message = exc.message(lang) if hasattr(exc, "message") and callable(exc.message) else str(exc)
    click.echo(f"error: {message}", err=True)
    raise click.exceptions.Exit(1)


def _when(value) -> str:
    return value.isoformat(timespec="minutes") if isinstance(value, datetime) else ""


@click.command("tasks")
@click.argument("account")
@click.option("--status", "box", type=click.Choice(BOXES), default="pending", show_default=True,
              help="pending 待办, done 已办, started 我发起的, cc 抄送我的.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@lang_option
@with_engine
def tasks_command(engine, account: str, box: str, as_json: bool, lang: str) -> None:
    """The tasks of ACCOUNT (newest first)."""
    try:
        with Session.for_user(engine, account, lang=lang).read() as uow:
            rows = uow.workflows.tasks(box)
    except FormworkError as exc:
        _refused(exc, lang)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, default=str, indent=2))
        return
    for row in rows:
        if box == "started":
            click.echo(f"instance {row['instance_id']}  {row['app_key']}/{row['form_key']}#{row['record_id']}  "
                       f"{row['workflow_key']}  {row['instance_status']}  {','.join(row['current_nodes'] or [])}")
        else:
            click.echo(f"task {row['id']}  {row['app_key']}/{row['form_key']}#{row['record_id']}  "
                       f"{row['workflow_key']}.{row['node_key']}  {row['kind']}  {row['status']}"
                       + (f"  due {_when(row['due_at'])}" if row["due_at"] else ""))
    if not rows:
        click.echo("(none)")


@click.command("task")
@click.argument("task_id", type=int)
@click.argument("action", type=click.Choice(ACTIONS))
@click.option("--as", "account", required=True, help="Who acts (account).")
@click.option("--comment", default=None)
@click.option("--to", default=None, help="return: the node to return to, or `submitter`.")
@click.option("--user", default=None, help="transfer, add_before, add_after, reassign: the account.")
@click.option("--no-again", "skip_between", is_flag=True,
              help="return: once that node is done, come straight back here (the nodes between are skipped).")
@click.option("--signature", type=int, default=None, help="approve: the id of the signature file.")
@lang_option
@with_engine
def task_command(engine, task_id: int, action: str, account: str, comment, to, user, skip_between, signature,
                 lang: str) -> None:
    """Do ACTION on task TASK_ID as ACCOUNT."""
    try:
        instance = Session.for_user(engine, account, lang=lang).write(
            lambda uow: uow.workflows.act(task_id, action, comment=comment, to=to, user=user,
                                          signature=signature, again=not skip_between))
    except FormworkError as exc:
        _refused(exc, lang)
    click.echo(f"instance {instance['id']}: {instance['status']}"
               + (f", now at {', '.join(instance['current_nodes'])}" if instance["current_nodes"] else ""))


@click.group("workflow")
def workflow_group() -> None:
    """Start workflows, read their log and flow, fire due timeouts."""


@workflow_group.command("start")
@click.argument("app_key")
@click.argument("form_key")
@click.argument("record_id", type=int)
@click.option("--as", "account", required=True, help="The submitter (account).")
@click.option("--workflow", "workflow_key", default=None, help="The workflow key (default: the submit one).")
@lang_option
@with_engine
def start_command(engine, app_key, form_key, record_id, account, workflow_key, lang) -> None:
    """Start the form's workflow on a record."""
    try:
        instance = Session.for_user(engine, account, lang=lang).write(
            lambda uow: uow.workflows.start(app_key, form_key, record_id, workflow=workflow_key))
    except FormworkError as exc:
        _refused(exc, lang)
    click.echo(f"instance {instance['id']}: {instance['status']}"
               + (f", now at {', '.join(instance['current_nodes'])}" if instance["current_nodes"] else ""))


@workflow_group.command("log")
@click.argument("app_key")
@click.argument("form_key")
@click.argument("record_id", type=int)
@lang_option
@with_engine
def log_command(engine, app_key, form_key, record_id, lang) -> None:
    """Every action on a record's workflows, oldest first."""
    with Session(engine).read() as uow:
        entries = uow.workflows.log(app_key, form_key, record_id)
    for e in entries:
        who = e["account"] or "system"
        extra = f"  {json.dumps(e['changes'], ensure_ascii=False)}" if e["changes"] else ""
        comment = f"  “{e['comment']}”" if e["comment"] else ""
        click.echo(f"{_when(e['at'])}  #{e['instance_id']}  {e['node_key'] or '-'}  {e['action']}  {who}"
                   f"{comment}{extra}")
    if not entries:
        click.echo("(no workflow on this record)")


@workflow_group.command("flow")
@click.argument("instance_id", type=int)
@with_engine
def flow_command(engine, instance_id) -> None:
    """The instance's flow as JSON (nodes with their state, edges, current nodes)."""
    try:
        with Session(engine).read() as uow:
            flow = uow.workflows.flow(instance_id)
    except FormworkError as exc:
        _refused(exc, "en")
    click.echo(json.dumps(flow, ensure_ascii=False, default=str, indent=2))


@workflow_group.command("fire-due")
@click.option("--at", "at", default=None, help="The time to fire at (ISO 8601; default now).")
@click.option("--limit", type=int, default=100, show_default=True)
@with_engine
def fire_due_command(engine, at, limit) -> None:
    """Fire the timeouts due (what the scheduler does on each tick)."""
    when = datetime.fromisoformat(at) if at else datetime.now(timezone.utc)
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    with engine.begin() as conn:
        fired = fire_due(conn, when, limit)
    for f in fired:
        click.echo(f"task {f['task']}: {f['action']}")
    click.echo(f"{len(fired)} timeout(s) fired")


COMMANDS = [tasks_command, task_command, workflow_group]

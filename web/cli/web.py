"""`formwork serve`, `formwork admin ensure` and `formwork api-keys`: the web app.

    formwork serve [--host 127.0.0.1] [--port 5000] [--workers N] [--no-scheduler]
    formwork admin ensure                 # the administrator account, made once
    formwork api-keys create ACCOUNT --name NAME
    formwork api-keys list [ACCOUNT]
    formwork api-keys revoke ID
"""
from __future__ import annotations

import os
import secrets
import subprocess
import sys

import click
from werkzeug.serving import make_server

from engine.errors import RecordValidationError
from engine.i18n import render
from runtime.auth import ApiKeys
from runtime.session import Session
from runtime.jobs.config import redis_url
from runtime.jobs.scheduler import start_embedded_scheduler
from web.app import create_app
from web.cli._common import open_engine, with_engine

ADMIN_ACCOUNT = "admin"
ADMIN_PASSWORD_VARIABLE = "FORMWORK_ADMIN_PASSWORD"


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="1: the threaded werkzeug server; more: gunicorn with that many workers.")
@click.option("--no-scheduler", "no_scheduler", is_flag=True,
              help="Do not run the scheduler in this process (run `formwork scheduler` yourself). By default "
                   "it runs here when jobs run inline (no REDIS_URL).")
@click.option("--scheduler-interval", default=1.0, show_default=True, type=click.FloatRange(0.05, 3600),
              help="Seconds between the embedded scheduler's ticks.")
@click.pass_context
def serve_command(ctx: click.Context, host: str, port: int, workers: int, no_scheduler: bool,
                  scheduler_interval: float) -> None:
    """Run the web app and print the address to open. With inline jobs (the embedded
    default) the scheduler (delayed jobs and retries, workflow timeouts, date and cron
    automations) runs in a daemon thread of this process, unless --no-scheduler."""
    database_url = (ctx.find_root().obj or {}).get("database_url")
    if database_url:
        os.environ["DATABASE_URL"] = database_url       # create_app and gunicorn workers read it
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::") else host
    stop = _embedded_scheduler(ctx, no_scheduler, scheduler_interval)
    try:
        if workers > 1:
            click.echo(f"Formwork is serving at http://{shown}:{port}/ with {workers} gunicorn workers "
                       "(Ctrl+C stops it)")
            sys.stdout.flush()
            raise click.exceptions.Exit(subprocess.call([
                sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"{host}:{port}",
                "--access-logfile", "-", "web.app:create_app()"]))
        server = _werkzeug_server(host, port)
        click.echo(f"Formwork is serving at http://{shown}:{port}/ (Ctrl+C stops it)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            click.echo("stopped")
    finally:
        if stop is not None:
            stop.set()


def _embedded_scheduler(ctx: click.Context, off: bool, interval: float):
    """Start the scheduler thread when jobs run inline and it is not turned off (in the
    process that serves, or that runs gunicorn: one scheduler however many workers); its
    stop event, or None."""
    if off:
        click.echo("scheduler: off (--no-scheduler); run `formwork scheduler` for timed work")
        return None
    if redis_url():
        click.echo("scheduler: not embedded (REDIS_URL is set); run `formwork scheduler` beside the workers")
        return None
    _thread, stop = start_embedded_scheduler(open_engine(ctx), interval=interval)
    click.echo(f"scheduler: embedded, every {interval:g} s")
    return stop


def _werkzeug_server(host: str, port: int):
    """A threaded werkzeug server of create_app() (one process: the embedded default)."""
    return make_server(host, port, create_app(), threaded=True)


@click.group("admin")
def admin() -> None:
    """The workspace administrator."""


@admin.command("ensure")
@with_engine
def admin_ensure(engine) -> None:
    """Make the administrator account `admin` once: prints its password the first time
    (FORMWORK_ADMIN_PASSWORD when set, else a generated one); later runs say it exists."""
    given = os.environ.get(ADMIN_PASSWORD_VARIABLE) or None
    password = given or secrets.token_urlsafe(12)
    try:
        with Session(engine).write() as uow:
            if uow.org.users.find(ADMIN_ACCOUNT):
                click.echo(f"administrator account exists: {ADMIN_ACCOUNT}")
                return
            uow.org.users.add(ADMIN_ACCOUNT, "管理员", password=password, is_admin=True)
    except RecordValidationError as exc:
        for issue in exc.issues:
            click.echo(f"error: {ADMIN_PASSWORD_VARIABLE}: {render(issue.code, issue.params, 'en')}", err=True)
        raise click.exceptions.Exit(1) from None
    click.echo(f"administrator account: {ADMIN_ACCOUNT}")
    click.echo(f"password: (from {ADMIN_PASSWORD_VARIABLE})" if given else f"password: {password}")


@click.group("api-keys")
def api_keys() -> None:
    """API keys: `Authorization: Bearer KEY` for other systems calling the API."""


@api_keys.command("create")
@click.argument("account")
@click.option("--name", required=True, help="What the key is for (shown in lists).")
@with_engine
def api_keys_create(engine, account: str, name: str) -> None:
    """Create a key for ACCOUNT and print it once, on one line."""
    with Session(engine).write() as uow:
        user = uow.org.users.get(account)
        _key, secret = ApiKeys(uow.conn).create(user.id, name)
    click.echo(secret)


@api_keys.command("list")
@click.argument("account", required=False)
@with_engine
def api_keys_list(engine, account: str | None) -> None:
    """Keys of ACCOUNT (or everyone's): name, prefix, created, last used, revoked."""
    with Session(engine).read() as uow:
        user_id = uow.org.users.get(account).id if account else None
        keys = ApiKeys(uow.conn).list(user_id)
    if not keys:
        click.echo("no API keys")
        return
    rows = [[str(k.id), k.account, k.name, f"fwk_{k.prefix}", _at(k.created_at), _at(k.last_used_at) or "never",
             _at(k.revoked_at) or "-"] for k in keys]
    headers = ["ID", "ACCOUNT", "NAME", "PREFIX", "CREATED", "LAST USED", "REVOKED"]
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows)]
    for row in [headers, *rows]:
        click.echo("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())


@api_keys.command("revoke")
@click.argument("key_id", metavar="ID", type=int)
@with_engine
def api_keys_revoke(engine, key_id: int) -> None:
    """Revoke a key: requests with it answer 401 from now on."""
    with Session(engine).write() as uow:
        key = ApiKeys(uow.conn).revoke(key_id)
    click.echo(f"revoked API key {key.id} ({key.name}, fwk_{key.prefix}) of {key.account}")


def _at(value) -> str | None:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else None


COMMANDS = [serve_command, admin, api_keys]

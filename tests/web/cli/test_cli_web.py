"""`formwork admin ensure` and `formwork api-keys`, on SQLite and PostgreSQL; the
`serve` command's options and its embedded scheduler (on with inline jobs, off with
--no-scheduler or REDIS_URL, stopped when serving ends)."""
from __future__ import annotations

import re
import threading

from runtime.auth import ApiKeys
from runtime.session import Session
from tests.support.web import add_user
from web.cli import main
from web.cli import web as web_cli
from web.cli.web import serve_command


def run(capsys, url, *args) -> tuple[int, str, str]:
    code = main(["--database-url", url, *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_admin_ensure_prints_a_password_once_that_signs_in(db, db_url, capsys, monkeypatch):
    monkeypatch.delenv("FORMWORK_ADMIN_PASSWORD", raising=False)
    code, out, _ = run(capsys, db_url, "admin", "ensure")
    assert code == 0
    password = re.fullmatch(r"administrator account: admin\npassword: (\S+)\n", out).group(1)
    with Session(db).read() as uow:
        user = uow.org.users.check_password("admin", password)
    assert user is not None and user.is_admin
    assert run(capsys, db_url, "admin", "ensure") == (0, "administrator account exists: admin\n", "")


def test_admin_ensure_takes_the_password_from_the_environment(db, db_url, capsys, monkeypatch):
    monkeypatch.setenv("FORMWORK_ADMIN_PASSWORD", "chosen-by-ops-1")
    code, out, _ = run(capsys, db_url, "admin", "ensure")
    assert (code, out) == (0, "administrator account: admin\npassword: (from FORMWORK_ADMIN_PASSWORD)\n")
    with Session(db).read() as uow:
        assert uow.org.users.check_password("admin", "chosen-by-ops-1") is not None


def test_admin_ensure_refuses_a_weak_password_clearly(db_url, capsys, monkeypatch):
    monkeypatch.setenv("FORMWORK_ADMIN_PASSWORD", "short")
    code, out, err = run(capsys, db_url, "admin", "ensure")
    assert code == 1 and out == "" and err.startswith("error: FORMWORK_ADMIN_PASSWORD: ")


def test_api_keys_create_list_revoke(db, db_url, capsys):
    add_user(db)
    code, out, _ = run(capsys, db_url, "api-keys", "create", "li.lei", "--name", "nightly sync")
    secret = out.strip()
    assert code == 0 and out.count("\n") == 1 and re.fullmatch(r"fwk_[0-9a-f]{8}_[\w-]{43}", secret)
    with db.begin() as conn:
        assert ApiKeys(conn).verify(secret) is not None
    code, listing, _ = run(capsys, db_url, "api-keys", "list")
    lines = listing.splitlines()
    assert lines[0].split() == ["ID", "ACCOUNT", "NAME", "PREFIX", "CREATED", "LAST", "USED", "REVOKED"]
    assert f"li.lei   nightly sync  {secret[:12]}" in lines[1] and lines[1].endswith("-")
    assert secret not in listing
    code, out, _ = run(capsys, db_url, "api-keys", "revoke", "1")
    assert code == 0 and out == f"revoked API key 1 (nightly sync, {secret[:12]}) of li.lei\n"
    assert run(capsys, db_url, "api-keys", "list", "li.lei")[1].splitlines()[1].endswith("-") is False
    with db.begin() as conn:
        assert ApiKeys(conn).verify(secret) is None


def test_api_keys_errors_are_messages(db, db_url, capsys):
    add_user(db)
    code, _, err = run(capsys, db_url, "api-keys", "revoke", "42")
    assert code == 2 and "there is no API key with id 42" in err
    code, _, err = run(capsys, db_url, "api-keys", "create", "nobody", "--name", "x")
    assert code == 2 and "nobody" in err and "Traceback" not in err
    assert run(capsys, db_url, "api-keys", "list")[1] == "no API keys\n"


def test_serve_options():
    names = {p.name: p for p in serve_command.params}
    assert names["host"].default == "127.0.0.1" and names["port"].default == 5000
    assert names["workers"].default == 1


class _Server:
    """Stands in for the werkzeug server: serving returns at once, noting which scheduler
    threads were alive meanwhile."""

    def __init__(self):
        self.seen: list[bool] = []

    def serve_forever(self):
        self.seen.append(any(t.name == "formwork-scheduler" and t.is_alive() for t in threading.enumerate()))


def _serve(monkeypatch, capsys, url, *args):
    server, started = _Server(), []
    real = web_cli.start_embedded_scheduler

    def start(engine, **options):
        thread, stop = real(engine, **options)
        started.append((thread, stop))
        return thread, stop
    monkeypatch.setattr(web_cli, "_werkzeug_server", lambda host, port: server)
    monkeypatch.setattr(web_cli, "start_embedded_scheduler", start)
    code, out, _err = run(capsys, url, "serve", *args)
    for thread, _stop in started:
        thread.join(30)
    return code, out, server, started


def test_serve_runs_the_scheduler_in_a_thread_when_jobs_run_inline(db_url, capsys, monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    code, out, server, started = _serve(monkeypatch, capsys, db_url, "--scheduler-interval", "0.05")
    assert code == 0 and out.startswith("scheduler: embedded, every 0.05 s\n")
    assert server.seen == [True]
    [(thread, stop)] = started
    assert stop.is_set() and not thread.is_alive() and thread.daemon     # stopped when serving ends


def test_serve_without_the_scheduler(db_url, capsys, monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    code, out, server, started = _serve(monkeypatch, capsys, db_url, "--no-scheduler")
    assert code == 0 and "scheduler: off (--no-scheduler)" in out and started == [] and server.seen == [False]
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    code, out, server, started = _serve(monkeypatch, capsys, db_url)
    assert "scheduler: not embedded (REDIS_URL is set)" in out and started == []

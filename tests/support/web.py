"""Helpers for the web tests: an app on a test database, a client that knows the CSRF
token of the page it last read, and sign-in."""
from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine

from engine.validation import load_definition
from runtime.apps import apply_app, load_installed
from runtime.permissions import FULL_ACCESS
from runtime.session import Session
from tests.support.paths import FLAGSHIP_APP
from web.app import create_app

PASSWORD = "correct-horse-9"
_TOKEN = re.compile(r'name="csrf-token" content="([^"]+)"')


def make_app(engine: Engine, **config) -> Flask:
    """The web app on the database of `engine` (the `db` fixture), quick sign-in failures.

    Page tests run under FULL_ACCESS unless they pass FORMWORK_POLICY: they test what a
    page does with what it may show. The app's own default, the role policy, is tested
    with `FORMWORK_POLICY=ROLE_POLICY` (tests/web/pages/test_home.py, the permission tests)."""
    settings = {"DATABASE_URL": engine.url.render_as_string(hide_password=False),
                "SECRET_KEY": "test-secret", "TESTING": True, "FORMWORK_SIGN_IN_DELAY": 0,
                "FORMWORK_POLICY": FULL_ACCESS}
    settings.update(config)
    return create_app(settings)


def add_user(engine: Engine, account: str = "li.lei", name: str = "李雷", *, password: str = PASSWORD,
             is_admin: bool = False) -> int:
    with Session(engine).write() as uow:
        return uow.org.users.add(account, name, password=password, is_admin=is_admin).id


def csrf_from(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token of the client's session, read from a page's meta tag."""
    page = client.get(path, headers={"Accept": "text/html"})
    found = _TOKEN.search(page.get_data(as_text=True))
    assert found, f"no csrf-token meta tag on {path} ({page.status_code})"
    return found.group(1)


def sign_in(client: FlaskClient, account: str = "li.lei", password: str = PASSWORD):
    token = csrf_from(client)
    return client.post("/login", data={"account": account, "password": password, "csrf_token": token})


def post_form(client: FlaskClient, path: str, data: dict | None = None, *, token_from: str = "/"):
    """A form POST carrying the session's CSRF token, as a browser sends it."""
    return client.post(path, data={**(data or {}), "csrf_token": csrf_from(client, token_from)})


def install_flagship(engine: Engine):
    """Install apps/crm_referral.yaml; returns the compiled app."""
    apply_app(engine, load_definition(FLAGSHIP_APP))
    with engine.connect() as conn:
        return load_installed(conn, "crm_referral")

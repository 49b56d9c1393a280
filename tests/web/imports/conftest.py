"""The flagship installed, li.lei (a salesperson) and an administrator signed in, and
imports run as jobs inline (no REDIS_URL) with their runs in a temporary folder."""
from __future__ import annotations

import pytest

from tests.support.web import add_user, install_flagship, make_app, sign_in


@pytest.fixture(autouse=True)
def inline_jobs(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)


@pytest.fixture
def import_app(db, tmp_path):
    install_flagship(db)
    add_user(db, "li.lei", "李雷")
    add_user(db, "admin", "管理员", is_admin=True)
    flask_app = make_app(db, FORMWORK_IMPORT_DIR=str(tmp_path / "imports"))
    yield flask_app
    flask_app.extensions["formwork"].engine.dispose()


@pytest.fixture
def admin(import_app):
    client = import_app.test_client()
    assert sign_in(client, "admin").status_code == 302
    return client

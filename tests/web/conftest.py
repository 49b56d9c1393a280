"""Fixtures of the web tests: `app` on the `db` fixture's database (SQLite and
PostgreSQL), `client`, and `user_id` (li.lei, password tests.support.web.PASSWORD)."""
from __future__ import annotations

import pytest

from tests.support.web import add_user, make_app


@pytest.fixture
def app(db):
    flask_app = make_app(db)
    yield flask_app
    flask_app.extensions["formwork"].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def user_id(db):
    return add_user(db)

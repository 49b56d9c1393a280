"""An administrator signed in (`admin`, a test client) on the `app` of tests/web/conftest.py."""
from __future__ import annotations

import pytest

from tests.support.web import add_user, sign_in


@pytest.fixture
def admin(app, db):
    add_user(db, "admin", "管理员", is_admin=True)
    client = app.test_client()
    assert sign_in(client, "admin").status_code == 302
    return client

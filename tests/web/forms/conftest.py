"""Fixtures of the form page tests: the desk app (tests/support/forms_app.py) installed
and li.lei signed in."""
from __future__ import annotations

import pytest

from tests.support.forms_app import install_desk
from tests.support.web import sign_in


@pytest.fixture
def desk(db):
    return install_desk(db)


@pytest.fixture
def signed_in(client, desk, user_id):
    assert sign_in(client).status_code == 302
    return client

"""Fixtures of the REST API tests: `world`, the flagship behind the web app with two users
and their API keys (tests/support/web_api.py), on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from tests.support.web_api import api_world


@pytest.fixture
def world(db):
    made = api_world(db, FORMWORK_API_RATE="off")
    yield made
    made.dispose()

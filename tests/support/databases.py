"""A second empty database of the same kind as the `db` fixture's, for tests that
move data from one install to another (export/import, deterministic seeds)."""
from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from engine.storage.db import make_engine
from engine.storage.system_upgrade import upgrade_system
from tests.conftest import PG_URL, pg_schema_url


@pytest.fixture
def second_db(db_url, tmp_path):
    if db_url.startswith("sqlite"):
        engine = make_engine(f"sqlite:///{tmp_path / 'second.db'}")
        upgrade_system(engine)
        yield engine
        engine.dispose()
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    engine = make_engine(pg_schema_url(schema))
    try:
        upgrade_system(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()

"""Sample data: `seed_app(engine, app_key, scale)` fills an installed app with
realistic, deterministic data through the record service (validation, history),
exactly as users' own records are written."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from engine.errors import FormworkError
from engine.storage.db import read_connection
from runtime.apps import load_installed

GENERATORS = {"crm_referral": "runtime.seed.crm_referral"}


def seed_app(engine: Engine, app_key: str, scale: int, *, seed: int = 42, progress=None) -> dict[str, int]:
    """Create sample records; returns {form key: records created}."""
    module_name = GENERATORS.get(app_key)
    if module_name is None:
        raise FormworkError(f"no sample-data generator for app {app_key!r}; "
                            f"available: {', '.join(sorted(GENERATORS))}")
    if not 1 <= scale <= 2_000_000:
        raise FormworkError(f"--scale must be between 1 and 2,000,000, got {scale}")
    _refuse_if_filled(engine, app_key)
    import importlib
    return importlib.import_module(module_name).generate(engine, scale, seed=seed, progress=progress)


def _refuse_if_filled(engine: Engine, app_key: str) -> None:
    """Sample data goes into an empty app only: its unique values (phones, codes) would
    collide with an earlier seed's, and mixing it into real data would be worse."""
    with read_connection(engine) as conn:
        app = load_installed(conn, app_key)
        if app is None:
            raise FormworkError(f"app {app_key!r} is not installed; install it first "
                                f"(`formwork apply apps/{app_key}.yaml`)")
        tables = app.tables
        for form in app.forms:
            table = tables.form_table(form.key)
            if conn.execute(sa.select(table.c.id).limit(1)).first() is not None:
                raise FormworkError(
                    f"app {app_key!r} already has records (form {form.key!r}); sample data is "
                    "only added to an empty app: use a fresh database (e.g. another "
                    "FORMWORK_INSTANCE or DATABASE_URL)")

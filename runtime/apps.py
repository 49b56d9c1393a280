"""Installed apps: install, upgrade (through a migration plan) and read back.

The definition of every installed version is stored in fw_app_versions; the
runtime always works from the installed definition, never from a file.
"""
from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from engine.definition.model import AppDef
from engine.errors import FormworkError
from engine.storage import system
from engine.storage.physical import AppTables
from engine.storage.types import utcnow


def load_installed(conn: Connection, app_key: str) -> AppDef | None:
    """The installed definition of an app, or None when it is not installed."""
    row = conn.execute(
        sa.select(system.app_versions.c.definition)
        .join(system.apps, system.apps.c.id == system.app_versions.c.app_id)
        .where(system.apps.c.key == app_key,
               system.app_versions.c.version == system.apps.c.current_version)
    ).first()
    return AppDef.from_dict(row.definition) if row else None


def apply_app(engine: Engine, app: AppDef, source: str | None = None,
              user_id: int | None = None) -> dict:
    """Install an app (first version). Upgrades go through the migration planner."""
    with engine.begin() as conn:
        if load_installed(conn, app.key) is not None:
            raise FormworkError(f"app {app.key!r} is already installed; upgrades need the planner")
        AppTables.build(app).metadata.create_all(conn)
        now = utcnow()
        app_id = conn.execute(system.apps.insert().values(
            key=app.key, label=app.label.as_dict(), current_version=1,
            created_at=now, updated_at=now).returning(system.apps.c.id)).scalar_one()
        document = app.raw
        conn.execute(system.app_versions.insert().values(
            app_id=app_id, version=1, definition=document, source=source,
            checksum=hashlib.sha256(json.dumps(document, sort_keys=True, ensure_ascii=False,
                                               default=str).encode()).hexdigest(),
            plan=None, installed_by=user_id, installed_at=now))
    return {"app": app.key, "version": 1, "created": True}

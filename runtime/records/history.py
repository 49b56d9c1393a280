"""Field-level history of record changes: who, when, from -> to."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from engine.storage import system


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{field: {"from": old, "to": new}} for the keys of `after` whose value changed."""
    return {key: {"from": before.get(key), "to": value}
            for key, value in after.items() if before.get(key) != value}


def write(conn: sa.Connection, entries: list[dict[str, Any]]) -> None:
    """Insert history rows in one statement. Each entry has app_key, form_key,
    record_id, version, action, changes (JSON-safe), user_id, at."""
    if entries:
        conn.execute(system.record_history.insert(), entries)


def read(conn: sa.Connection, app_key: str, form_key: str, record_id: int) -> list[dict[str, Any]]:
    h = system.record_history
    rows = conn.execute(sa.select(h).where(
        h.c.app_key == app_key, h.c.form_key == form_key, h.c.record_id == record_id
    ).order_by(h.c.id)).mappings()
    return [dict(row) for row in rows]


def entry(app_key: str, form_key: str, record_id: int, version: int, action: str,
          changes: dict, user_id: int | None, at: datetime) -> dict[str, Any]:
    return {"app_key": app_key, "form_key": form_key, "record_id": record_id, "version": version,
            "action": action, "changes": changes, "user_id": user_id, "at": at}

"""Field-level history of record changes: who, when, from -> to.

The history is written by the first record listener (`record_history`, see
runtime/records/events.py) from the events of each write: one row per record of the
write's own event, in one INSERT per call; derived changes (computed fields of other
records) are not the user's changes and have no row. `changes` holds
{field: {"from": old, "to": new}} in the field types' JSON form."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

import sqlalchemy as sa

from engine.errors import FormworkError
from engine.fields.base import FieldType
from engine.storage import system
from runtime.records.events import Batch, EventKind, Listeners, RecordChange, RecordEvent

ACTIONS = {EventKind.CREATED: "create", EventKind.UPDATED: "update", EventKind.DELETED: "delete",
           EventKind.RESTORED: "restore", EventKind.PURGED: "purge"}


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


# ---- the listener ------------------------------------------------------------------------
def record_history(batch: Batch) -> None:
    """The history rows of a write's events, in one statement."""
    entries = []
    for event in batch.events:
        action = ACTIONS.get(event.kind)
        if action is None:
            continue
        as_json = _json_changes(batch.app.form_types(batch.app.require_form(event.form_key)), event)
        entries += [entry(event.app_key, event.form_key, change.record_id, change.version, action,
                          as_json(change), event.user_id, event.at) for change in event.changes]
    write(batch.conn, entries)


def _json_changes(types: dict[str, FieldType], event: RecordEvent) -> Callable[[RecordChange], dict]:
    """A function giving one record's {field: {"from", "to"}} in JSON form."""
    if event.kind is EventKind.CREATED:
        return _created_changes(types)
    return lambda change: {key: {"from": types[key].to_json(change.old.get(key)),
                                 "to": types[key].to_json(value)} for key, value in change.new.items()}


def _created_changes(types: dict[str, FieldType]) -> Callable[[RecordChange], dict]:
    """The values a record was created with, from their type's empty value, with the
    per-type work done once per event (an import writes 100k records through here)."""
    before = {key: t.to_json(None) for key, t in types.items()}
    convert = {key: (None if type(t).to_json is FieldType.to_json else t.to_json) for key, t in types.items()}

    def changes(change: RecordChange) -> dict:
        out = {}
        for key, value in change.new.items():
            if value is not None:      # an empty field was not "changed" by creating it
                to_json = convert[key]
                out[key] = {"from": before[key], "to": value if to_json is None else to_json(value)}
        return out
    return changes


DEFAULT_LISTENERS = Listeners(record_history)


def history_first(listeners: Listeners | None) -> Listeners:
    """`listeners` (DEFAULT_LISTENERS when None), refused unless the history comes first:
    every write must leave its history, whatever else listens."""
    if listeners is None:
        return DEFAULT_LISTENERS
    if not isinstance(listeners, Listeners) or next(iter(listeners), None) is not record_history:
        raise FormworkError(
            f"record listeners must start with the history listener, got {listeners!r}; "
            "build them with runtime.records.DEFAULT_LISTENERS.then(your_listener)")
    return listeners

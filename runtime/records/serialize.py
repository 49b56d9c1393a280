"""Records as JSON-safe documents (the shape the CLI and the API print), for a compiled app."""
from __future__ import annotations

from typing import Any

from engine.compiled.app import compiled



def _iso(value):
    return value.isoformat() if value is not None else None


def record_to_json(app, form_key: str, record: dict[str, Any]) -> dict[str, Any]:
    app = compiled(app)
    form = app.require_form(form_key)
    types = {f.key: app.types.of(f) for f in form.fields}
    data = {
        "id": record["id"], "version": record["version"],
        "created_at": _iso(record["created_at"]), "updated_at": _iso(record["updated_at"]),
        "created_by": record["created_by"], "updated_by": record["updated_by"],
        "owner_id": record["owner_id"], "deleted_at": _iso(record["deleted_at"]),
        "fields": {},
    }
    for key, value in record["fields"].items():
        ftype = types.get(key)
        if ftype is not None and ftype.storage == "none":
            resolved = ftype.resolve(form, app)
            ftype = app.types.of(resolved[1]) if resolved else None
        data["fields"][key] = ftype.to_json(value) if ftype is not None else value
    if record.get("titles"):
        data["titles"] = {key: {str(tid): info for tid, info in titles.items()}
                          for key, titles in record["titles"].items()}
    return data


def history_to_json(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"version": e["version"], "action": e["action"], "user_id": e["user_id"],
             "at": _iso(e["at"]), "changes": e["changes"]} for e in entries]

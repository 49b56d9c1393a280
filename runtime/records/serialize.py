"""Records as JSON-safe documents (the shape the CLI and the API print), for a compiled app.

How a form's field values become JSON is worked out once per compiled app and form (a
`JsonPlan`: each field's converter, a lookup's that of the field it reads, none where the
value is JSON as it is), kept beside the compiled app (never on it) for as long as the app
lives; a page of records then costs a dictionary pass per record, not a type lookup and a
lookup's resolution per value.
"""
from __future__ import annotations

import threading
import weakref
from typing import Any, Callable, Iterable

from engine.compiled.app import App, compiled
from engine.fields.base import FieldType

Converter = Callable[[Any], Any]

# JsonPlan by compiled app, then form key; an entry goes with its app.
_PLANS: "weakref.WeakKeyDictionary[App, dict[str, JsonPlan]]" = weakref.WeakKeyDictionary()
_PLANS_LOCK = threading.Lock()


class JsonPlan:
    """The converters of a form's fields: key -> function, None where to_json changes nothing."""

    __slots__ = ("converters",)

    def __init__(self, app: App, form_key: str):
        form = app.require_form(form_key)
        converters: dict[str, Converter | None] = {}
        for fdef in form.fields:
            ftype = app.types.of(fdef)
            if ftype.storage == "none":         # a lookup: the JSON of the field it reads
                resolved = ftype.resolve(form, app)
                ftype = app.types.of(resolved[1]) if resolved else None
            converters[fdef.key] = _converter(ftype)
        self.converters = converters

    def record(self, record: dict[str, Any]) -> dict[str, Any]:
        converters = self.converters
        fields = {}
        for key, value in record["fields"].items():
            convert = converters.get(key)
            fields[key] = value if convert is None else convert(value)
        data = {
            "id": record["id"], "version": record["version"],
            "created_at": _iso(record["created_at"]), "updated_at": _iso(record["updated_at"]),
            "created_by": record["created_by"], "updated_by": record["updated_by"],
            "owner_id": record["owner_id"], "deleted_at": _iso(record["deleted_at"]),
            "fields": fields,
        }
        titles = record.get("titles")
        if titles:
            data["titles"] = {key: {str(tid): info for tid, info in by_id.items()}
                              for key, by_id in titles.items()}
        return data


def _converter(ftype: FieldType | None) -> Converter | None:
    if ftype is None or type(ftype).to_json is FieldType.to_json:     # the value as it is
        return None
    return ftype.to_json


def json_plan(app, form_key: str) -> JsonPlan:
    """The plan of `form_key` of the compiled app (or definition) `app`, made once."""
    app = compiled(app)
    by_form = _PLANS.get(app)
    found = by_form.get(form_key) if by_form is not None else None
    if found is None:
        found = JsonPlan(app, form_key)
        with _PLANS_LOCK:
            _PLANS.setdefault(app, {})[form_key] = found
    return found


def _iso(value):
    return value.isoformat() if value is not None else None


def record_to_json(app, form_key: str, record: dict[str, Any]) -> dict[str, Any]:
    return json_plan(app, form_key).record(record)


def records_to_json(app, form_key: str, records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    plan = json_plan(app, form_key)
    return [plan.record(r) for r in records]


def history_to_json(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"version": e["version"], "action": e["action"], "user_id": e["user_id"],
             "at": _iso(e["at"]), "changes": e["changes"]} for e in entries]

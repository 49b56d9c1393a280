"""The values of a posted form page, as the draft evaluation and the record service
take them: what the browser sent, by the kind of each field's widget. The same parsing
serves the live draft (POST .../draft) and the save, so they judge the same input.

- one string per field for most kinds ("" is empty: None);
- a list for multi-selects, checkboxes, member and department lists, multiple relations;
- JSON text in one hidden input for the widgets the page's script assembles (address,
  location, subform rows, attachments, images): text that is not JSON is passed on as
  it is, so the record service says what is wrong with it;
- a switch is on when its checkbox was sent.
Read-only fields (formulas, lookups, serials, rollups, fields the user may not set) are
never taken from the post.
"""
from __future__ import annotations

import json
from typing import Any

from werkzeug.datastructures import MultiDict

LIST_KINDS = {"multiselect", "checkbox", "members", "departments"}
JSON_KINDS = {"address", "location", "subform", "attachment", "image"}
SWITCH_ON = {"1", "on", "true"}


def field_value(field: dict, form: MultiDict) -> Any:
    key, kind = field["key"], field["kind"]
    if kind == "switch":
        return form.get(key, "").lower() in SWITCH_ON
    if kind in LIST_KINDS or (kind == "relation" and field["options"].get("multiple")):
        return [v for v in form.getlist(key) if v != ""]
    raw = form.get(key, "")
    if kind in JSON_KINDS:
        if raw.strip() == "":
            return [] if kind in {"subform", "attachment", "image"} else None
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return None if raw == "" else raw


def posted_values(description: dict, form: MultiDict) -> dict[str, Any]:
    """The values of the writable fields described (describe_form) from a posted form."""
    return {f["key"]: field_value(f, form) for f in description["fields"] if not f["read_only"]}

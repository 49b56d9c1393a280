"""A record's field history for people: who by name, when, each field by its label, from
and to as display values (options' labels, members' names, related records' titles).

The entries come from `Records.history` (hidden fields already left out); the values
they hold are the field types' JSON forms, read back through each type's `clean` (what
the API accepts) and shown with `display`. Names cost one query per kind (users,
departments) and titles one query per relation field that changed, for the whole
history at once.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from engine.definition.model import FormDef
from engine.errors import FormworkError
from engine.fields.base import FieldType
from runtime.records.display import Display
from runtime.records.service import Records

ACTION_LABELS = {
    "create": {"zh": "创建", "en": "created"}, "update": {"zh": "修改", "en": "changed"},
    "delete": {"zh": "删除到回收站", "en": "moved to the recycle bin"},
    "restore": {"zh": "从回收站恢复", "en": "restored"}, "purge": {"zh": "彻底删除", "en": "purged"},
}


def _ids(value: Any) -> list[int]:
    items = value if isinstance(value, list) else [value]
    return [v for v in items if isinstance(v, int) and not isinstance(v, bool)]


class HistoryFormatter:
    def __init__(self, records: Records):
        self.records, self.app = records, records.app
        self.display = Display(records.conn, records.app, records.ctx)
        self.lang = records.ctx.lang

    def entries(self, form_key: str, record_id: int, *, since_version: int | None = None) -> list[dict]:
        """The formatted history, newest first (entries after `since_version` only, if given)."""
        form = self.app.require_form(form_key)
        raw = self.records.history(form_key, record_id)
        if since_version is not None:
            raw = [e for e in raw if e["version"] > since_version]
        return self.format(form, list(reversed(raw)))

    def format(self, form: FormDef, raw: list[dict]) -> list[dict[str, Any]]:
        types = {key: t for key in {k for e in raw for k in e["changes"]}
                 if (t := self.display.shown_type(form, key)) is not None}
        values = {id(e): {k: {side: self._value(types[k], change.get(side)) for side in ("from", "to")}
                          for k, change in e["changes"].items() if k in types} for e in raw}
        names = self.display.names(self._referenced(types, raw, values))
        ctx = self.display.context(names)
        titles = self._titles(form, types, values)
        users = names.get("users", {})
        out = []
        for e in raw:
            changes = []
            for key in [f.key for f in form.fields if f.key in values[id(e)]]:
                pair = values[id(e)][key]
                fdef = form.field(key)
                changes.append({"field": key, "label": fdef.label.get(self.lang),
                                "from": e["changes"][key].get("from"), "to": e["changes"][key].get("to"),
                                "from_display": self._shown(types[key], key, pair["from"], ctx, titles),
                                "to_display": self._shown(types[key], key, pair["to"], ctx, titles)})
            out.append({"version": e["version"], "action": e["action"],
                        "action_label": ACTION_LABELS.get(e["action"], {}).get(self.lang, e["action"]),
                        "at": e["at"].isoformat() if e["at"] is not None else None,
                        "user": Display.person(e["user_id"], users), "changes": changes})
        return out

    def _value(self, ftype: FieldType, stored: Any) -> Any:
        """The Python value of a JSON form kept in the history (as given when unreadable)."""
        if stored in (None, [], ""):
            return None
        if ftype.path_kind == "relation":
            return stored
        try:
            return ftype.clean(stored, self.records.ctx)
        except (FormworkError, ValueError, TypeError, KeyError, AttributeError):
            return stored

    def _referenced(self, types, raw, values) -> dict[str, set[int]]:
        ids: dict[str, set[int]] = {"users": {e["user_id"] for e in raw if e["user_id"] is not None},
                                    "departments": set()}
        for e in raw:
            for key, pair in values[id(e)].items():
                kind = getattr(types[key], "kind", None)
                if kind in ids:
                    for side in pair.values():
                        ids[kind].update(_ids(side))
        return ids

    def _titles(self, form: FormDef, types, values) -> dict[str, dict[int, str]]:
        """{relation key: {id: title}}: one query per relation field that changed."""
        titles = {}
        for key, ftype in types.items():
            if ftype.path_kind != "relation":
                continue
            wanted = {i for pairs in values.values() if key in pairs for side in pairs[key].values()
                      for i in _ids(side)}
            if wanted:
                titles[key] = self._target_titles(ftype.target, wanted)
        return titles

    def _target_titles(self, target_key: str, ids: set[int]) -> dict[int, str]:
        target = self.app.require_form(target_key)
        table = self.app.tables.form_table(target_key)
        title_key = target.title_key()
        access = self.records.access(target)
        if title_key is None or not access.can_see(title_key):
            return {}
        title_type = self.app.types.of(target.field(title_key))
        query = sa.select(table.c.id, *[table.c[c.name] for c in title_type.columns()]).where(
            table.c.id.in_(sorted(ids)))
        return {row.id: title_type.display(title_type.from_row(row._mapping), self.records.ctx)
                for row in self.records.conn.execute(query)}

    @staticmethod
    def _shown(ftype: FieldType, key: str, value: Any, ctx, titles) -> str:
        if value is None:
            return ""
        if ftype.path_kind == "relation":
            own = titles.get(key, {})
            return "、".join(own.get(i, f"#{i}") for i in _ids(value))
        try:
            return ftype.display(value, ctx)
        except (TypeError, ValueError, AttributeError, KeyError):
            return str(value)

"""Records for people: each field's JSON value beside the text a page shows for it.

    shown = Display(conn, app, ctx).rows(form, page.records, keys)

A record from the record service (`Records.get`, `Records.list`) holds Python values
and the titles of related records; a page needs text in the reader's language: an
option's label, a member's or department's name, a related record's title, a date in
the workspace's time zone. `rows` gives, for each record, only the `keys` asked for
(the caller passes visible fields only; the service never returned hidden ones):

    {"id": 7, "version": 3, "created_at": "...", "updated_at": "...", "deleted_at": None,
     "created_by": {"id": 2, "name": "李雷"}, "updated_by": {...}, "owner": {...},
     "values":  {"level": "vip", "owner": 2, "customer": 5, "items": [{...}]},
     "display": {"level": "重要客户", "owner": "李雷", "customer": "上海明达科技", "items": "2 行"},
     "links":   {"customer": [{"id": 5, "title": "上海明达科技", "deleted": False}]},
     "subforms": {"items": [{"id": 1, "values": {...}, "display": {...}}]}}

Names cost one query per kind (users, departments) for all the records at once,
whatever their number; titles come with the records (runtime/records/loading.py).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Iterable

import sqlalchemy as sa

from engine.compiled.app import App
from engine.definition.model import FormDef
from engine.fields.base import FieldType, ValueContext
from engine.storage import system

NAME_KINDS = ("users", "departments")
SYSTEM_USERS = (("created_by", "created_by"), ("updated_by", "updated_by"), ("owner", "owner_id"))


def _iso(value):
    return value.isoformat() if value is not None else None


def count_json(count) -> dict[str, Any] | None:
    """A count of the record service (service.Count) as a page shows it: "10,000+" when
    capped, "≈1,200,000" when estimated (PostgreSQL's planner), else the exact number."""
    if count is None:
        return None
    if count.exact:
        text = f"{count.value:,}"
    elif count.estimated:
        text = f"≈{count.value:,}"
    else:
        text = f"{count.value:,}+"
    return {"value": count.value, "exact": count.exact, "estimated": count.estimated, "text": text}


class Display:
    """Display values for records of one app, in `ctx.lang` and `ctx.tz`."""

    def __init__(self, conn: sa.Connection, app: App, ctx: ValueContext):
        self.conn, self.app, self.ctx = conn, app, ctx

    # ---- types ------------------------------------------------------------------------
    def shown_type(self, form: FormDef, key: str) -> FieldType | None:
        """The type that formats `key`: a lookup is formatted as the field it reads."""
        fdef = form.field(key)
        if fdef is None:
            return None
        ftype = self.app.types.of(fdef)
        if ftype.path_kind == "lookup":
            resolved = ftype.resolve(form, self.app)
            return self.app.types.of(resolved[1]) if resolved else None
        return ftype

    def _types(self, form: FormDef, keys: Iterable[str]) -> dict[str, FieldType]:
        return {key: t for key in keys if (t := self.shown_type(form, key)) is not None}

    # ---- names ------------------------------------------------------------------------
    def names(self, ids: dict[str, set[int]]) -> dict[str, dict[int, str]]:
        """{kind: {id: name}} of users and departments: one query per kind asked for."""
        found: dict[str, dict[int, str]] = {}
        for kind, table in (("users", system.users), ("departments", system.departments)):
            wanted = {i for i in ids.get(kind, ()) if isinstance(i, int)}
            if wanted:
                found[kind] = dict(self.conn.execute(
                    sa.select(table.c.id, table.c.name).where(table.c.id.in_(sorted(wanted)))).all())
        return found

    def _referenced(self, form: FormDef, types: dict[str, FieldType], records: list[dict]) -> dict[str, set[int]]:
        ids: dict[str, set[int]] = {kind: set() for kind in NAME_KINDS}
        subforms = {key: self._types_of_subform(form, key) for key, t in types.items()
                    if t.storage == "child_table"}

        def add(ftype: FieldType, value: Any) -> None:
            ref = ftype.references(value) if value not in (None, []) else None
            if ref is not None and ref.kind in ids:
                ids[ref.kind].update(ref.ids)
        for record in records:
            for _, column in SYSTEM_USERS:
                if record.get(column) is not None:
                    ids["users"].add(record[column])
            values = record["fields"]
            for key, ftype in types.items():
                add(ftype, values.get(key))
            for key, columns in subforms.items():
                for row in values.get(key) or []:
                    for col, ctype in columns.items():
                        add(ctype, row.get(col))
        return ids

    def _types_of_subform(self, form: FormDef, key: str) -> dict[str, FieldType]:
        return {sub.key: self.app.types.of(sub) for sub in form.field(key).fields}

    def context(self, names: dict[str, dict[int, str]]) -> ValueContext:
        return replace(self.ctx, names=names)

    # ---- rows -------------------------------------------------------------------------
    def rows(self, form: FormDef, records: list[dict], keys: Iterable[str]) -> list[dict[str, Any]]:
        """The records with values and display texts of `keys` (those each record holds)."""
        types = self._types(form, keys)
        names = self.names(self._referenced(form, types, records))
        ctx = self.context(names)
        users = names.get("users", {})
        return [self._row(form, types, record, ctx, users) for record in records]

    def _row(self, form, types, record, ctx, users) -> dict[str, Any]:
        values, display, links, subforms = {}, {}, {}, {}
        fields, titles = record["fields"], record.get("titles") or {}
        for key, ftype in types.items():
            if key not in fields:
                continue
            value = fields[key]
            values[key] = ftype.to_json(value)
            if key in titles or ftype.path_kind == "relation":
                linked = self._links(value, titles.get(key, {}))
                links[key] = linked
                display[key] = "、".join(item["title"] for item in linked)
            elif ftype.storage == "child_table":
                display[key] = ftype.display(value, ctx)
                subforms[key] = self._subform_rows(form, key, value or [], ctx)
            else:
                display[key] = ftype.display(value, ctx)
        row = {"id": record["id"], "version": record["version"],
               "created_at": _iso(record["created_at"]), "updated_at": _iso(record["updated_at"]),
               "deleted_at": _iso(record["deleted_at"])}
        for name, column in SYSTEM_USERS:
            row[name] = self.person(record.get(column), users)
        row.update(values=values, display=display, links=links)
        if subforms:
            row["subforms"] = subforms
        return row

    @staticmethod
    def person(user_id: int | None, users: dict[int, str]) -> dict[str, Any] | None:
        """{"id", "name"} of a user (None for the system); a removed user is "#id"."""
        if user_id is None:
            return None
        return {"id": user_id, "name": users.get(user_id, f"#{user_id}")}

    @staticmethod
    def _links(value: Any, titles: dict) -> list[dict[str, Any]]:
        ids = value if isinstance(value, list) else ([] if value is None else [value])
        return [{"id": i, **titles.get(i, {"title": f"#{i}", "deleted": True})} for i in ids]

    def _subform_rows(self, form, key, rows: list[dict], ctx) -> list[dict[str, Any]]:
        columns = self._types_of_subform(form, key)
        return [{"id": row.get("id"),
                 "values": {col: t.to_json(row.get(col)) for col, t in columns.items()},
                 "display": {col: t.display(row.get(col), ctx) for col, t in columns.items()}}
                for row in rows]

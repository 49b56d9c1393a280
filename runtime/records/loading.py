"""Reading records: rows of the form table become record dicts, and relations,
lookups and subforms are resolved for a whole page with one statement each
(never one per record)."""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable

import sqlalchemy as sa

from engine.definition.model import AppDef, FormDef
from engine.fields.base import FieldType, ValueContext
from engine.fields.registry import field_type
from engine.fields.relation import LookupField, RelationField
from engine.storage.physical import SYSTEM_COLUMNS, AppTables

RECORD_SYSTEM_KEYS = SYSTEM_COLUMNS


def row_to_record(form_types: dict[str, FieldType], row: Any) -> dict[str, Any]:
    mapping = row._mapping if hasattr(row, "_mapping") else row
    record = {key: mapping[key] for key in RECORD_SYSTEM_KEYS}
    record["fields"] = {key: ftype.from_row(mapping) for key, ftype in form_types.items()
                        if ftype.storage == "column"}
    return record


class PageLoader:
    """Resolves the related data of a list of records of one form."""

    def __init__(self, app: AppDef, form: FormDef, tables: AppTables, ctx: ValueContext):
        self.app, self.form, self.tables, self.ctx = app, form, tables, ctx
        self.types = {f.key: field_type(f) for f in form.fields}

    def load(self, conn: sa.Connection, records: list[dict[str, Any]],
             fields: Iterable[str] | None = None) -> list[dict[str, Any]]:
        if not records:
            return records
        wanted = set(fields) if fields is not None else set(self.types)
        ids = [r["id"] for r in records]
        for fdef in self.form.fields:
            ftype = self.types[fdef.key]
            if ftype.storage == "link_table" and fdef.key in wanted:
                self._load_links(conn, fdef.key, records, ids)
            elif ftype.storage == "child_table" and fdef.key in wanted:
                self._load_children(conn, fdef.key, records, ids)
        self._load_targets(conn, records, wanted)
        return records

    def _load_links(self, conn, key, records, ids):
        link = self.tables.link_table(self.form.key, key)
        by_source: dict[int, list[int]] = defaultdict(list)
        for source, target in conn.execute(
                sa.select(link.c.source_id, link.c.target_id)
                .where(link.c.source_id.in_(ids)).order_by(link.c.source_id, link.c.position)):
            by_source[source].append(target)
        for record in records:
            record["fields"][key] = by_source.get(record["id"], [])

    def _load_children(self, conn, key, records, ids):
        child = self.tables.child_table(self.form.key, key)
        sub_types = {s.key: field_type(s) for s in self.form.field(key).fields}
        by_parent: dict[int, list[dict]] = defaultdict(list)
        for row in conn.execute(sa.select(child).where(child.c.parent_id.in_(ids))
                                .order_by(child.c.parent_id, child.c.position)).mappings():
            values = {"id": row["id"]}
            values.update({k: t.from_row(row) for k, t in sub_types.items()})
            by_parent[row["parent_id"]].append(values)
        for record in records:
            record["fields"][key] = by_parent.get(record["id"], [])

    def _load_targets(self, conn, records, wanted):
        """Titles of related records and lookup values: one query per target form."""
        relations = [f for f in self.form.fields if isinstance(self.types[f.key], RelationField)
                     and (f.key in wanted or any(self._lookup_relation(k) == f.key for k in wanted))]
        lookups_by_relation: dict[str, list[tuple[str, Any]]] = defaultdict(list)
        for fdef in self.form.fields:
            if isinstance(self.types[fdef.key], LookupField) and fdef.key in wanted:
                resolved = self.types[fdef.key].resolve(self.form, self.app)
                if resolved:
                    lookups_by_relation[resolved[0].key].append((fdef.key, resolved[1]))
        # Group relation fields by target form so one query serves them all.
        by_target: dict[str, list[str]] = defaultdict(list)
        for fdef in relations:
            by_target[fdef.option("target")].append(fdef.key)
        for target_key, relation_keys in by_target.items():
            ids: set[int] = set()
            for record in records:
                for rkey in relation_keys:
                    value = record["fields"].get(rkey)
                    if isinstance(value, list):
                        ids.update(value)
                    elif value is not None:
                        ids.add(value)
            target_form = self.app.form(target_key)
            table = self.tables.form_table(target_key)
            title_key = target_form.title_key()
            needed = {title_key} if title_key else set()
            for rkey in relation_keys:
                needed.update(tf.key for _k, tf in lookups_by_relation.get(rkey, []))
            target_types = {k: field_type(target_form.field(k)) for k in needed if k}
            columns = [table.c.id, table.c.deleted_at]
            for ftype in target_types.values():
                columns.extend(table.c[c.name] for c in ftype.columns())
            found = {}
            if ids:
                for row in conn.execute(sa.select(*columns).where(table.c.id.in_(ids))).mappings():
                    found[row["id"]] = (row, {k: t.from_row(row) for k, t in target_types.items()})
            for record in records:
                titles = record.setdefault("titles", {})
                for rkey in relation_keys:
                    value = record["fields"].get(rkey)
                    targets = value if isinstance(value, list) else ([] if value is None else [value])
                    titles[rkey] = {
                        tid: {"title": self._title(found[tid][1], title_key, target_types, tid),
                              "deleted": found[tid][0]["deleted_at"] is not None}
                        if tid in found else {"title": f"#{tid}", "deleted": True}
                        for tid in targets}
                    for lookup_key, target_field in lookups_by_relation.get(rkey, []):
                        hit = found.get(value) if not isinstance(value, list) else None
                        record["fields"][lookup_key] = hit[1].get(target_field.key) if hit else None

    def _title(self, values, title_key, target_types, tid) -> str:
        if not title_key or values.get(title_key) is None:
            return f"#{tid}"
        return target_types[title_key].display(values[title_key], self.ctx)

    def _lookup_relation(self, key: str) -> str | None:
        ftype = self.types.get(key)
        return ftype.relation_key if isinstance(ftype, LookupField) else None

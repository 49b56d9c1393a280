"""Reading records: rows of the form table become record dicts, and relations,
lookups and subforms are resolved for a whole page at once.

- single relations (their titles and lookups): LEFT JOINs in the page query itself;
- each multiple relation: one query over its link table joined to the target;
- each subform: one query over its child table.
So a page costs 1 + (multiple relations) + (subforms) statements, whatever its size.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable

import sqlalchemy as sa

from engine.definition.model import AppDef, FieldDef, FormDef
from engine.fields.base import FieldType, ValueContext
from engine.fields.registry import field_type
from engine.fields.relation import LookupField, RelationField
from engine.storage.physical import SYSTEM_COLUMNS, AppTables

RECORD_SYSTEM_KEYS = SYSTEM_COLUMNS


@dataclass
class _TargetRead:
    """What a page needs from the target form of one relation field."""

    relation_key: str
    target_form: FormDef
    table: sa.Table
    title_key: str | None
    types: dict[str, FieldType]                              # target fields read
    lookups: list[tuple[str, str]] = field(default_factory=list)  # (lookup key, target field key)
    alias: Any = None
    column_names: list[str] = field(default_factory=list)   # filled once planning is done
    labels: list[tuple[str, str]] = field(default_factory=list)  # (column, label in the page row)

    def finish(self) -> None:
        self.column_names = [c.name for t in self.types.values() for c in t.columns()]
        self.labels = [(name, f"_r_{self.relation_key}__{name}") for name in self.column_names]


def _reads_plainly(ftype: FieldType) -> bool:
    return type(ftype).from_row is FieldType.from_row


class PageLoader:
    """Builds the page query and resolves the related data of its records.

    Get one with `PageLoader.for_form(...)`: the plan depends only on the definition,
    so it is built once per form and field selection and reused for every page.
    """

    @classmethod
    def for_form(cls, app: AppDef, form: FormDef, tables: AppTables, ctx: ValueContext,
                 fields: Iterable[str] | None = None) -> "PageLoader":
        cache = app.__dict__.setdefault("_page_loaders", {})
        key = (form.key, None if fields is None else frozenset(fields), ctx.lang, str(ctx.tz))
        loader = cache.get(key)
        if loader is None:
            loader = cache[key] = cls(app, form, tables, ctx, fields)
        return loader

    def __init__(self, app: AppDef, form: FormDef, tables: AppTables, ctx: ValueContext,
                 fields: Iterable[str] | None = None):
        self.app, self.form, self.tables, self.ctx = app, form, tables, ctx
        self.table = tables.form_table(form.key)
        self.types = {f.key: field_type(f) for f in form.fields}
        self.wanted = set(fields) if fields is not None else set(self.types)
        self.reads = self._plan_reads()
        # Most types store one column as is; read those straight from the row and call
        # from_row only for the types that reshape their value.
        stored = [(k, t) for k, t in self.types.items() if t.storage == "column" and k in self.wanted]
        self.plain = [(k, t.column_name) for k, t in stored if _reads_plainly(t)]
        self.shaped = [(k, t) for k, t in stored if not _reads_plainly(t)]
        self.joined = [r for r in self.reads.values() if r.alias is not None]

    # ---- planning -------------------------------------------------------------------
    def _plan_reads(self) -> dict[str, _TargetRead]:
        reads: dict[str, _TargetRead] = {}
        for fdef in self.form.fields:
            ftype = self.types[fdef.key]
            if isinstance(ftype, RelationField) and fdef.key in self.wanted:
                reads[fdef.key] = self._target_read(fdef, ftype)
        for fdef in self.form.fields:
            ftype = self.types[fdef.key]
            if isinstance(ftype, LookupField) and fdef.key in self.wanted:
                resolved = ftype.resolve(self.form, self.app)
                if not resolved:
                    continue
                relation, target_field = resolved
                read = reads.get(relation.key) or self._target_read(relation, self.types[relation.key])
                reads[relation.key] = read
                read.types[target_field.key] = field_type(target_field)
                read.lookups.append((fdef.key, target_field.key))
        for read in reads.values():
            read.finish()
        return reads

    def _target_read(self, fdef: FieldDef, ftype: RelationField) -> _TargetRead:
        target_form = self.app.require_form(ftype.target)
        title_key = target_form.title_key()
        types = {title_key: field_type(target_form.field(title_key))} if title_key else {}
        read = _TargetRead(fdef.key, target_form, self.tables.form_table(target_form.key), title_key, types)
        if not ftype.multiple:
            read.alias = read.table.alias(f"rel_{fdef.key}")
        return read

    def select(self, *extra: sa.ColumnElement) -> sa.Select:
        """SELECT of the form table with single relations joined in."""
        columns: list[Any] = [self.table, *extra]
        joined = self.table
        for key, read in self.reads.items():
            if read.alias is None:
                continue
            alias = read.alias
            columns.append(alias.c.id.label(f"_r_{key}__id"))
            columns.append(alias.c.deleted_at.is_not(None).label(f"_r_{key}__deleted"))
            columns.extend(alias.c[name].label(label) for name, label in read.labels)
            joined = joined.outerjoin(alias, alias.c.id == self.table.c[key])
        return sa.select(*columns).select_from(joined)

    # ---- loading ---------------------------------------------------------------------
    def records(self, conn: sa.Connection, rows: list[Any]) -> list[dict[str, Any]]:
        """Records from rows of `select()`, with related data resolved."""
        records = []
        for row in rows:
            mapping = row._mapping
            record = {key: mapping[key] for key in RECORD_SYSTEM_KEYS}
            values = {key: mapping[column] for key, column in self.plain}
            for key, ftype in self.shaped:
                values[key] = ftype.from_row(mapping)
            record["fields"] = values
            record["titles"] = {}
            for read in self.joined:
                self._apply_joined(record, read, mapping)
            records.append(record)
        self.load_side_tables(conn, records)
        return records

    def _apply_joined(self, record, read: _TargetRead, mapping) -> None:
        key = read.relation_key
        target_id = mapping[f"_r_{key}__id"]
        values = {}
        if target_id is not None:
            prefixed = {name: mapping[label] for name, label in read.labels}
            values = {k: t.from_row(prefixed) for k, t in read.types.items()}
        own = record["fields"].get(key)
        if own is not None and key in self.wanted:
            record["titles"][key] = {own: self._title_info(read, values, own, target_id is None,
                                                           mapping[f"_r_{key}__deleted"])}
        for lookup_key, target_key in read.lookups:
            record["fields"][lookup_key] = values.get(target_key)

    def _title_info(self, read, values, target_id, missing, deleted) -> dict[str, Any]:
        if missing:
            return {"title": f"#{target_id}", "deleted": True}
        title = values.get(read.title_key) if read.title_key else None
        text = read.types[read.title_key].display(title, self.ctx) if title is not None else f"#{target_id}"
        return {"title": text, "deleted": bool(deleted)}

    def load_side_tables(self, conn: sa.Connection, records: list[dict[str, Any]]) -> None:
        """Multiple relations and subforms: one query each for all the records."""
        if not records:
            return
        ids = [r["id"] for r in records]
        for fdef in self.form.fields:
            if fdef.key not in self.wanted:
                continue
            storage = self.types[fdef.key].storage
            if storage == "link_table":
                self._load_links(conn, fdef.key, records, ids)
            elif storage == "child_table":
                self._load_children(conn, fdef, records, ids)

    def _load_links(self, conn, key, records, ids):
        link = self.tables.link_table(self.form.key, key)
        read = self.reads[key]
        target = read.table
        query = (sa.select(link.c.source_id, link.c.target_id, target.c.id.label("_found"),
                           target.c.deleted_at.is_not(None).label("_deleted"),
                           *[target.c[name] for name in read.column_names])
                 .select_from(link.outerjoin(target, target.c.id == link.c.target_id))
                 .where(link.c.source_id.in_(ids)).order_by(link.c.source_id, link.c.position))
        by_source: dict[int, list[int]] = defaultdict(list)
        titles: dict[int, dict[int, dict]] = defaultdict(dict)
        for row in conn.execute(query).mappings():
            values = {k: t.from_row(row) for k, t in read.types.items()}
            by_source[row["source_id"]].append(row["target_id"])
            titles[row["source_id"]][row["target_id"]] = self._title_info(
                read, values, row["target_id"], row["_found"] is None, row["_deleted"])
        for record in records:
            record["fields"][key] = by_source.get(record["id"], [])
            record.setdefault("titles", {})[key] = titles.get(record["id"], {})

    def _load_children(self, conn, fdef: FieldDef, records, ids):
        child = self.tables.child_table(self.form.key, fdef.key)
        sub_types = {s.key: field_type(s) for s in fdef.fields}
        by_parent: dict[int, list[dict]] = defaultdict(list)
        for row in conn.execute(sa.select(child).where(child.c.parent_id.in_(ids))
                                .order_by(child.c.parent_id, child.c.position)).mappings():
            values = {"id": row["id"]}
            values.update({k: t.from_row(row) for k, t in sub_types.items()})
            by_parent[row["parent_id"]].append(values)
        for record in records:
            record["fields"][fdef.key] = by_parent.get(record["id"], [])

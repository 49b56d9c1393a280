"""Loading what formulas read, for a whole batch of records at once.

The field paths of the formulas being computed are merged into a tree, one level
per form reached through a relation:

    orders: amount, customer, items.price          (the records themselves)
      customer -> customers: level, referrer        (one query for all the orders' customers)
        referrer -> customers: level                (one query for all their referrers)

Each level costs one query, each multiple relation one more (its link table), each
subform one more (its child rows), whatever the number of records: never a query per
record. Related records in the recycle bin are still read (a relation keeps pointing
at them until they are purged, as lookups show them).

Values reach formulas as formula values (see engine/formula/values.py): moments in
the workspace time zone, and values of fields a formula reads as text (an address)
as their text.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable

import sqlalchemy as sa

from engine.computed.paths import ResolvedPath
from engine.definition.model import AppDef
from engine.dialect import Dialect
from engine.fields.base import FieldType, ValueContext
from engine.query.tables import AppTables
from engine.upkeep.idsets import among

Row = dict   # a record's values: field key -> stored value; ("links", key) and ("sub", key) too


def links_key(key: str) -> tuple[str, str]:
    return ("links", key)


def sub_key(key: str) -> tuple[str, str]:
    return ("sub", key)


@dataclass
class Level:
    """What is read from the records of one form reached by the same route."""

    form: str
    columns: set[str] = field(default_factory=set)              # column fields
    relations: dict[str, "Level"] = field(default_factory=dict)  # relation key -> the related level
    links: set[str] = field(default_factory=set)                # multiple relations read (id lists)
    subforms: dict[str, set[str]] = field(default_factory=dict)  # subform key -> its columns
    rows: dict[int, Row] = field(default_factory=dict)          # filled by the loader


def plan_levels(app: AppDef, form_key: str, paths: Iterable[ResolvedPath]) -> Level:
    """The tree of levels that `paths` (of formulas of `form_key`) read."""
    root = Level(form_key)
    for path in paths:
        level = root
        for hop in path.relation_hops:
            if hop.multiple:
                level.links.add(hop.field)
            else:
                level.columns.add(hop.field)
            level = level.relations.setdefault(hop.field, Level(hop.target))
        if path.subform is not None:
            level.subforms.setdefault(path.subform.field, set()).add(path.field.key)
        elif path.reads_links:
            level.links.add(path.field.key)
        else:
            level.columns.add(path.field.key)
    return root


class InputLoader:
    def __init__(self, conn: sa.Connection, app: AppDef, tables: AppTables, ctx: ValueContext):
        self.conn, self.app, self.tables, self.ctx = conn, app, tables, ctx
        self.dialect = Dialect.of(conn)
        self._types: dict[tuple[str, str], FieldType] = {}

    def ftype(self, form_key: str, key: str) -> FieldType:
        found = self._types.get((form_key, key))
        if found is None:
            found = self._types[(form_key, key)] = self.tables.types.of(self.app.require_form(form_key).field(key))
        return found

    # ---- loading ------------------------------------------------------------------------
    def load_rows(self, form_key: str, where: sa.ColumnElement, columns: Iterable[str],
                  lock: bool = False) -> dict[int, Row]:
        """The rows of `form_key` matching `where` with the given fields, by id (locked
        for update on PostgreSQL when `lock`, in id order, so concurrent writers of the
        same records queue up instead of overwriting each other's computed values)."""
        table = self.tables.form_table(form_key)
        types = [(key, self.ftype(form_key, key)) for key in sorted(columns)]
        selected = [table.c.id] + [table.c[c.name] for _, t in types for c in t.columns()]
        query = sa.select(*selected).where(where).order_by(table.c.id)
        if lock and self.dialect.row_locks:
            query = query.with_for_update()
        rows: dict[int, Row] = {}
        for mapping in self.conn.execute(query).mappings():
            rows[mapping["id"]] = {"id": mapping["id"], **{key: t.from_row(mapping) for key, t in types}}
        return rows

    def complete(self, level: Level, rows: dict[int, Row]) -> None:
        """Load what `level` reads that the rows do not hold yet: their link lists and
        subform rows, then the related levels below them."""
        level.rows = rows
        missing_links = [k for k in sorted(level.links) if any(links_key(k) not in r for r in rows.values())]
        for key in missing_links:
            self._load_links(level.form, key, rows)
        for key, columns in sorted(level.subforms.items()):
            if any(sub_key(key) not in r for r in rows.values()):
                self._load_subform(level.form, key, columns, rows)
        for key, below in sorted(level.relations.items()):
            targets: set[int] = set()
            for row in rows.values():
                if links_key(key) in row:
                    targets.update(row[links_key(key)] or ())
                elif row.get(key) is not None:
                    targets.add(row[key])
            table = self.tables.form_table(below.form)
            found = self.load_rows(below.form, among(table.c.id, targets, self.dialect), below.columns) \
                if targets else {}
            self.complete(below, found)

    def _load_links(self, form_key: str, key: str, rows: dict[int, Row]) -> None:
        link = self.tables.link_table(form_key, key)
        lists: dict[int, list[int]] = defaultdict(list)
        query = sa.select(link.c.source_id, link.c.target_id).where(among(link.c.source_id, rows, self.dialect)) \
            .order_by(link.c.source_id, link.c.position)
        for source, target in self.conn.execute(query):
            lists[source].append(target)
        for rid, row in rows.items():
            row.setdefault(links_key(key), lists.get(rid, []))

    def _load_subform(self, form_key: str, key: str, columns: set[str], rows: dict[int, Row]) -> None:
        child = self.tables.child_table(form_key, key)
        subform = self.app.require_form(form_key).field(key)
        types = [(c, self.tables.types.of(subform.subfield(c))) for c in sorted(columns)]
        selected = [child.c.parent_id] + [child.c[col.name] for _, t in types for col in t.columns()]
        by_parent: dict[int, list[dict]] = defaultdict(list)
        query = sa.select(*selected).where(among(child.c.parent_id, rows, self.dialect)) \
            .order_by(child.c.parent_id, child.c.position)
        for mapping in self.conn.execute(query).mappings():
            by_parent[mapping["parent_id"]].append({c: t.from_row(mapping) for c, t in types})
        for rid, row in rows.items():
            row.setdefault(sub_key(key), by_parent.get(rid, []))

    # ---- reading paths --------------------------------------------------------------------
    def read(self, root: Level, row: Row, path: ResolvedPath) -> Any:
        """The formula value of `path` for one record (`row` is at `root`)."""
        current: list[Row | None] = [row]
        level, array = root, False
        for hop in path.relation_hops:
            below = level.relations[hop.field]
            following: list[Row | None] = []
            for item in current:
                if item is None:
                    if not array:
                        following.append(None)
                elif hop.multiple:
                    following.extend(below.rows.get(i) for i in item.get(links_key(hop.field)) or ())
                else:
                    target = item.get(hop.field)
                    following.append(None if target is None else below.rows.get(target))
            current, level, array = following, below, array or hop.multiple
        if path.subform is not None:
            sub = path.subform.field
            column = path.field.key
            ftype = self.tables.types.of(self.app.require_form(level.form).field(sub).subfield(column))
            return [ftype.formula_value(child.get(column), self.ctx)
                    for item in current if item is not None for child in item.get(sub_key(sub)) or ()]
        key = path.field.key
        if path.reads_links:
            return [i for item in current if item is not None for i in item.get(links_key(key)) or ()]
        ftype = self.ftype(level.form, key)
        values = [None if item is None else ftype.formula_value(item.get(key), self.ctx) for item in current]
        if not array:
            return values[0] if values else None
        flat: list[Any] = []
        for value in values:
            flat.extend(value) if isinstance(value, list) else flat.append(value)
        return flat

    def inputs(self, root: Level, rows: Iterable[Row], paths: list[ResolvedPath]) -> list[dict[str, Any]]:
        """Per record, the formula inputs: every path under its written, dotted name."""
        names = [(".".join(p.written), p) for p in paths]
        return [{name: self.read(root, row, path) for name, path in names} for row in rows]

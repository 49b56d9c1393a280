"""Reading records: rows of the form table become record dicts, and relations,
lookups and subforms are resolved for a whole page at once.

- single relations (their titles and lookups): LEFT JOINs in the page query itself, and
  for a lookup that shows a relation of the related record (`customer.referrer`), the
  record that relation names, for its title;
- each multiple relation: one query over its link table joined to the target;
- each subform: one query over its child table.
So a page costs 1 + (multiple relations) + (subforms) statements, whatever its size.
"""
from __future__ import annotations

import weakref

from collections import defaultdict
from operator import itemgetter
from dataclasses import dataclass, field
from typing import Any, Iterable

import sqlalchemy as sa

from engine.definition.model import AppDef, FieldDef, FormDef
from engine.fields.base import FieldType, ValueContext
from engine.fields.relation import RelationField
from engine.query.columns import ReadColumns
from engine.query.tables import SYSTEM_COLUMNS, AppTables

RECORD_SYSTEM_KEYS = SYSTEM_COLUMNS

MAX_LOADERS = 256      # page loaders kept per app definition (form, fields, language, zone)


@dataclass
class _LookupTitles:
    """A lookup showing a relation of the related record (`customer.referrer`): its value
    is an id, named by the title of the record it points at, as the relation itself is.
    That record is joined to the related one in the page query."""

    lookup_key: str
    column: str                      # the looked-up relation's column on the related table
    target_form: FormDef             # the form that relation points at
    alias: Any
    title_type: FieldType | None
    labels: list[tuple[str, str]]    # (title column, label in the page row)

    @classmethod
    def plan(cls, app: AppDef, tables: AppTables, lookup_key: str, relation: RelationField) -> "_LookupTitles":
        target_form = app.require_form(relation.target)
        title_key = target_form.title_key()
        title_type = app.types.of(target_form.field(title_key)) if title_key else None
        names = [c.name for c in title_type.columns()] if title_type else []
        alias = tables.form_table(target_form.key).alias(f"lkt_{lookup_key}")
        return cls(lookup_key, relation.column_name, target_form, alias, title_type,
                   [(name, f"_l_{lookup_key}__{name}") for name in names])

    @property
    def state_label(self) -> str:
        return f"_ls_{self.lookup_key}"


@dataclass
class _TargetRead:
    """What a page needs from the target form of one relation field."""

    relation_key: str
    target_form: FormDef
    table: sa.Table
    title_key: str | None
    types: dict[str, FieldType]                              # target fields read
    lookups: list[tuple[str, str]] = field(default_factory=list)  # (lookup key, target field key)
    lookup_titles: list[_LookupTitles] = field(default_factory=list)   # lookups of relations
    alias: Any = None
    column_names: list[str] = field(default_factory=list)   # filled once planning is done
    labels: list[tuple[str, str]] = field(default_factory=list)  # (column, label in the page row)

    def finish(self) -> None:
        self.column_names = [c.name for t in self.types.values() for c in t.columns()]
        self.labels = [(name, f"_r_{self.relation_key}__{name}") for name in self.column_names]


@dataclass
class _JoinedShape:
    """Where one joined relation's columns are in a page row."""

    read: _TargetRead
    state: int                              # see _target_state
    plain: list[tuple[str, int]]            # target field key -> position
    shaped: list[tuple[str, FieldType]]     # target fields whose type reshapes its columns
    titled: bool                            # the relation itself is read (not only its lookups)
    title_type: FieldType | None
    lookup_titles: list[tuple[_LookupTitles, int, list[tuple[str, int]]]]   # (plan, state, title columns)


@dataclass
class _RowShape:
    """Positions of a page query's columns, for reading rows by index."""

    system: list[tuple[str, int]]
    plain: list[tuple[str, int]]
    joined: list[_JoinedShape]

    def __post_init__(self) -> None:
        self.system_keys, self.system_values = _getter(self.system)
        self.plain_keys, self.plain_values = _getter(self.plain)


def _getter(pairs: list[tuple[str, int]]) -> tuple[tuple[str, ...], Any]:
    """(keys, function of a row giving their values as a tuple)."""
    keys = tuple(key for key, _ in pairs)
    positions = [i for _, i in pairs]
    if len(positions) == 1:
        only = positions[0]
        return keys, lambda row: (row[only],)
    return keys, (itemgetter(*positions) if positions else (lambda row: ()))


def _target_state(table) -> sa.ColumnElement:
    """One column per joined relation: NULL when the related record does not exist, else
    whether it is in the recycle bin."""
    return sa.type_coerce(sa.case((table.c.id.is_(None), sa.null()),
                                  else_=table.c.deleted_at.is_not(None)), sa.Boolean)


def _reads_plainly(ftype: FieldType) -> bool:
    return type(ftype).from_row is FieldType.from_row


# Page loaders per compiled app (engine/compiled/app.py), gone with the app.
_LOADERS: "weakref.WeakKeyDictionary[object, dict]" = weakref.WeakKeyDictionary()


class PageLoader:
    """Builds the page query and resolves the related data of its records.

    Get one with `PageLoader.for_form(...)`: the plan depends only on the definition,
    so it is built once per form and field selection and reused for every page.
    """

    @classmethod
    def for_form(cls, app: AppDef, form: FormDef, tables: AppTables, ctx: ValueContext,
                 fields: Iterable[str] | None = None) -> "PageLoader":
        cache = _LOADERS.setdefault(app, {})
        key = (form.key, None if fields is None else frozenset(fields), ctx.lang, str(ctx.tz))
        loader = cache.get(key)
        if loader is None:
            if len(cache) >= MAX_LOADERS:     # callers choose `fields`: keep the cache bounded
                try:
                    del cache[next(iter(cache))]
                except (KeyError, RuntimeError, StopIteration):   # another thread got there first
                    pass
            loader = cache[key] = cls(app, form, tables, ctx, fields)
        return loader

    def __init__(self, app: AppDef, form: FormDef, tables: AppTables, ctx: ValueContext,
                 fields: Iterable[str] | None = None):
        self.app, self.form, self.tables, self.ctx = app, form, tables, ctx
        self.table = tables.form_table(form.key)
        self.types = {f.key: self.app.types.of(f) for f in form.fields}
        self.wanted = set(fields) if fields is not None else set(self.types)
        self.reads = self._plan_reads()
        self._plain_select: sa.Select | None = None
        # Most types store one column as is; read those straight from the row and call
        # from_row only for the types that reshape their value.
        stored = [(k, t) for k, t in self.types.items() if t.storage == "column" and k in self.wanted]
        self.plain = [(k, t.column_name) for k, t in stored if _reads_plainly(t)]
        self.shaped = [(k, t) for k, t in stored if not _reads_plainly(t)]
        self.joined = [r for r in self.reads.values() if r.alias is not None]
        self._column_owner = {c.name: k for k, t in self.types.items() if t.storage == "column"
                              for c in t.columns()}
        self._sorted: dict[tuple, tuple[sa.Select, list[str]]] = {}
        self._shapes: dict[tuple[str, ...], _RowShape] = {}

    # ---- planning -------------------------------------------------------------------
    def _plan_reads(self) -> dict[str, _TargetRead]:
        reads: dict[str, _TargetRead] = {}
        for fdef in self.form.fields:
            ftype = self.types[fdef.key]
            if ftype.path_kind == "relation" and fdef.key in self.wanted:
                reads[fdef.key] = self._target_read(fdef, ftype)
        for fdef in self.form.fields:
            ftype = self.types[fdef.key]
            if ftype.path_kind == "lookup" and fdef.key in self.wanted:
                resolved = ftype.resolve(self.form, self.app)
                if not resolved:
                    continue
                relation, target_field = resolved
                read = reads.get(relation.key) or self._target_read(relation, self.types[relation.key])
                reads[relation.key] = read
                target_type = self.app.types.of(target_field)
                read.types[target_field.key] = target_type
                read.lookups.append((fdef.key, target_field.key))
                if target_type.path_kind == "relation" and not target_type.multiple and read.alias is not None:
                    read.lookup_titles.append(_LookupTitles.plan(self.app, self.tables, fdef.key, target_type))
        for read in reads.values():
            read.finish()
        return reads

    def _target_read(self, fdef: FieldDef, ftype: RelationField) -> _TargetRead:
        target_form = self.app.require_form(ftype.target)
        title_key = target_form.title_key()
        types = {title_key: self.app.types.of(target_form.field(title_key))} if title_key else {}
        read = _TargetRead(fdef.key, target_form, self.tables.form_table(target_form.key), title_key, types)
        if not ftype.multiple:
            read.alias = read.table.alias(f"rel_{fdef.key}")
        return read

    def select(self, *extra: sa.ColumnElement, columns: Any = None) -> sa.Select:
        """SELECT of the form table with single relations joined in. `columns` (from
        engine.query.columns.read_columns) replaces the stored columns of formula fields
        computed when read, the form's own and those of joined relations (lookups), by
        their SQL under the same names, so rows read the same."""
        own, related = self._live_sql(columns)
        plain = not extra and not own and not related
        if plain and self._plain_select is not None:
            return self._plain_select      # Selects are immutable: callers add to a copy
        selected: list[Any] = [self.table] if not own else \
            [own[c.name].label(c.name) if c.name in own else c for c in self.table.c]
        selected.extend(extra)
        joined = self.table
        for key, read in self.reads.items():
            if read.alias is None:
                continue
            alias, live = read.alias, related.get(key, {})
            selected.append(_target_state(alias).label(f"_s_{key}"))
            selected.extend((live[name] if name in live else alias.c[name]).label(label)
                            for name, label in read.labels)
            joined = joined.outerjoin(alias, alias.c.id == self.table.c[key])
            for titles in read.lookup_titles:
                named, live_title = titles.alias, related.get(titles.lookup_key, {})
                selected.append(_target_state(named).label(titles.state_label))
                selected.extend((live_title[name] if name in live_title else named.c[name]).label(label)
                                for name, label in titles.labels)
                joined = joined.outerjoin(named, named.c.id == alias.c[titles.column])
        statement = sa.select(*selected).select_from(joined)
        if plain:
            # Built once per loader: building the joined columns costs more than the
            # query of a single record on SQLite.
            self._plain_select = statement
        return statement

    def _live_sql(self, columns: Any) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        """The live SQL a select of this loader uses: of the form's own columns read, and
        of each joined relation's target columns read (by relation key)."""
        if not isinstance(columns, ReadColumns):
            return {}, {}
        own = {name: sql for name, sql in columns.overrides.items()
               if self._column_owner.get(name) in self.wanted}
        related = {}
        for key, read in self.reads.items():
            if read.alias is not None:
                found = columns.related(read.target_form, read.alias)
                picked = {name: found[name] for name in read.column_names if name in found}
                if picked:
                    related[key] = picked
            for titles in read.lookup_titles:   # keyed by lookup key: never a relation's key
                found = columns.related(titles.target_form, titles.alias)
                picked = {name: found[name] for name, _ in titles.labels if name in found}
                if picked:
                    related[titles.lookup_key] = picked
        return own, related

    def sorted_select(self, keys: list, columns: Any = None) -> tuple[sa.Select, list[str]]:
        """`select()` plus the sort keys, and the row names to read a cursor from. A sort
        key that is a column of the form table is already in the row (selecting it twice
        would convert its values twice); other sort expressions get a label. Cached per
        sort order: the statement depends only on the keys' fields and directions (unless
        it computes fields when read: their SQL holds the reader's date)."""
        signature = tuple((k.key, k.descending) for k in keys)
        live = any(self._live_sql(columns))
        cached = None if live else self._sorted.get(signature)
        if cached is None:
            extra, names = [], []
            for i, key in enumerate(keys):
                column = key.expression
                if isinstance(column, sa.Column) and column.table is self.table:
                    names.append(column.name)
                else:
                    extra.append(column.label(f"_sort{i}"))
                    names.append(f"_sort{i}")
            cached = (self.select(*extra, columns=columns), names)
            if not live:
                self._sorted[signature] = cached
        return cached

    # ---- loading ---------------------------------------------------------------------
    def records(self, conn: sa.Connection, rows: list[Any]) -> list[dict[str, Any]]:
        """Records from rows of `select()`, with related data resolved. Values are read
        by position (computed once per row shape), which is what keeps a page of records
        close to the cost of the bare query."""
        if not rows:
            return []
        shape = self._shape(tuple(rows[0]._fields))
        records = []
        system_keys, system_values = shape.system_keys, shape.system_values
        plain_keys, plain_values = shape.plain_keys, shape.plain_values
        for row in rows:
            record = dict(zip(system_keys, system_values(row)))
            values = dict(zip(plain_keys, plain_values(row))) if plain_keys else {}
            if self.shaped:
                mapping = row._mapping
                for key, ftype in self.shaped:
                    values[key] = ftype.from_row(mapping)
            titles: dict[str, Any] = {}
            record["fields"], record["titles"] = values, titles
            for joined in shape.joined:
                self._apply_joined(row, joined, values, titles)
            records.append(record)
        self.load_side_tables(conn, records)
        return records

    def _shape(self, names: tuple[str, ...]) -> "_RowShape":
        shape = self._shapes.get(names)
        if shape is None:
            position = {name: i for i, name in enumerate(names)}
            joined = []
            for read in self.joined:
                labels = dict(read.labels)
                plain = [(k, position[labels[t.column_name]]) for k, t in read.types.items() if _reads_plainly(t)]
                shaped = [(k, t) for k, t in read.types.items() if not _reads_plainly(t)]
                title = read.types.get(read.title_key) if read.title_key else None
                lookup_titles = [(t, position[t.state_label], [(name, position[label]) for name, label in t.labels])
                                 for t in read.lookup_titles]
                joined.append(_JoinedShape(read, position[f"_s_{read.relation_key}"], plain, shaped,
                                           read.relation_key in self.wanted, title, lookup_titles))
            shape = self._shapes[names] = _RowShape(
                system=[(key, position[key]) for key in RECORD_SYSTEM_KEYS],
                plain=[(key, position[column]) for key, column in self.plain], joined=joined)
        return shape

    def _apply_joined(self, row, joined: "_JoinedShape", values: dict, titles: dict) -> None:
        read = joined.read
        state = row[joined.state]
        target: dict[str, Any] = {}
        if state is not None:
            target = {key: row[i] for key, i in joined.plain}
            if joined.shaped:
                mapping = row._mapping
                prefixed = {name: mapping[label] for name, label in read.labels}
                for key, ftype in joined.shaped:
                    target[key] = ftype.from_row(prefixed)
        own = values.get(read.relation_key)
        if own is not None and joined.titled:
            titles[read.relation_key] = {own: self._title_info(joined.title_type, target.get(read.title_key),
                                                               own, state)}
        for lookup_key, target_key in read.lookups:
            values[lookup_key] = target.get(target_key)
        if joined.lookup_titles:
            self._name_lookups(row, joined, values, titles)

    def _name_lookups(self, row, joined: "_JoinedShape", values: dict, titles: dict) -> None:
        """Titles of the records that lookups of relations point at, as for a relation."""
        for plan, state_at, title_at in joined.lookup_titles:
            shown = values.get(plan.lookup_key)
            if shown is None:
                continue
            state = row[state_at]
            title = plan.title_type.from_row({name: row[i] for name, i in title_at}) \
                if plan.title_type is not None and state is not None else None
            titles[plan.lookup_key] = {shown: self._title_info(plan.title_type, title, shown, state)}

    def _title_info(self, title_type: FieldType | None, title: Any, target_id: int,
                    state: bool | None) -> dict[str, Any]:
        """How a related record is named on a page; `state` as in _target_state."""
        if state is None:
            return {"title": f"#{target_id}", "deleted": True}
        text = title_type.display(title, self.ctx) if title is not None else f"#{target_id}"
        return {"title": text, "deleted": bool(state)}

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
        # Target columns are labelled as in the page query, so that no field key can
        # collide with the link table's own columns.
        query = (sa.select(link.c.source_id.label("_source"), link.c.target_id.label("_target"),
                           _target_state(target).label("_state"),
                           *[target.c[name].label(label) for name, label in read.labels])
                 .select_from(link.outerjoin(target, target.c.id == link.c.target_id))
                 .where(link.c.source_id.in_(ids)).order_by(link.c.source_id, link.c.position))
        title_type = read.types.get(read.title_key) if read.title_key else None
        by_source: dict[int, list[int]] = defaultdict(list)
        titles: dict[int, dict[int, dict]] = defaultdict(dict)
        for row in conn.execute(query).mappings():
            title = None
            if read.title_key and row["_state"] is not None:
                title = title_type.from_row({name: row[label] for name, label in read.labels})
            source, target_id = row["_source"], row["_target"]
            by_source[source].append(target_id)
            titles[source][target_id] = self._title_info(title_type, title, target_id, row["_state"])
        for record in records:
            record["fields"][key] = by_source.get(record["id"], [])
            record.setdefault("titles", {})[key] = titles.get(record["id"], {})

    def _load_children(self, conn, fdef: FieldDef, records, ids):
        child = self.tables.child_table(self.form.key, fdef.key)
        sub_types = {s.key: self.app.types.of(s) for s in fdef.fields}
        by_parent: dict[int, list[dict]] = defaultdict(list)
        for row in conn.execute(sa.select(child).where(child.c.parent_id.in_(ids))
                                .order_by(child.c.parent_id, child.c.position)).mappings():
            values = {"id": row["id"]}
            values.update({k: t.from_row(row) for k, t in sub_types.items()})
            by_parent[row["parent_id"]].append(values)
        for record in records:
            record["fields"][fdef.key] = by_parent.get(record["id"], [])

"""Executing a migration plan on a connection (inside the caller's transaction).

Columns and tables are never dropped here: what a plan removes is renamed into the
archive (recorded in fw_archived_fields) and can be restored. Work on the rows of a
table runs in batches by id (values converted in Python through the field types;
relation copies as INSERT/UPDATE ... SELECT over id windows), so memory stays
constant however large the table, and progress is reported after every batch.

The caller runs the whole plan in one transaction: DDL is transactional on both
PostgreSQL and SQLite, so a failure anywhere leaves the database as it was.
"""
from __future__ import annotations

import dataclasses
import json
import re
from datetime import datetime
from typing import Any, Callable, Iterator

import sqlalchemy as sa
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext

from engine.computed.graph import Node
from engine.definition.model import AppDef, FieldDef, FormDef
from engine.dialect import Dialect
from engine.errors import FieldError, FormworkError
from engine.fields.base import ValueContext
from engine.query.tables import AppTables, child_table_name, link_table_name, physical_name
from engine.schema_change.plan import Plan, Step
from engine.storage import system
from engine.storage.types import RecordId, utcnow
from engine.upkeep.recompute import recompute, recompute_subform

BATCH = 2000
# Values are converted as people see them: option labels, units and dates in the
# workspace's first language and time zone (the plan's preview uses the same).
CONVERSION_CONTEXT = ValueContext()
Progress = Callable[[str, int, int], None]   # (what, done, total)

_INDEX_NAME = re.compile(r"^(\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?)(\"[^\"]+\"|\S+)", re.I)


class MigrationError(FormworkError):
    pass


def _as_text(value: Any) -> str | None:
    """A bound value as PostgreSQL text input (see Migrator._write_batch)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, dict)):   # JSON columns: psycopg adapts them itself, we send text
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def with_key(fdef: FieldDef, key: str) -> FieldDef:
    """An installed field as it is named once a rename has run: same type and settings
    (so the same kind of columns), the new key (so the new column names)."""
    return fdef if fdef.key == key else dataclasses.replace(fdef, key=key)


class Migrator:
    def __init__(self, conn: sa.Connection, old, new, progress: Progress | None = None, batch: int = BATCH):
        """`old` (None when installing) and `new` are compiled apps (engine/compiled/app.py);
        a field of either is typed by its own app (`old.types.of`, `new.types.of`), which
        also types a renamed copy of one of its fields (`with_key`: same path)."""
        self.conn, self.old, self.new = conn, old, new
        self.old_tables = old.tables if old else None
        self.new_tables = new.tables
        self.progress, self.batch = progress, batch
        self.op = Operations(MigrationContext.configure(conn))
        self.quote = conn.dialect.identifier_preparer.quote
        self.dialect = Dialect.of(conn)
        self.ctx = CONVERSION_CONTEXT
        self.results: list[dict[str, Any]] = []
        self._serial = None

    # ---- names and the archive ----------------------------------------------------------
    def _archive_name(self, name: str) -> str:
        if self._serial is None:
            self._serial = (self.conn.execute(sa.select(sa.func.max(system.archived_fields.c.id))).scalar() or 0)
        self._serial += 1
        return physical_name("archived", name, str(self._serial))

    def _record_archive(self, form: str, fld: str | None, kind: str, physical: str, original: str,
                        definition: dict, at=None) -> None:
        """`at` is shared by the columns archived together (one field), so they are restored together."""
        self.conn.execute(system.archived_fields.insert().values(
            app_key=self.new.key, form_key=form, field_key=fld, kind=kind, physical_name=physical,
            original_name=original, definition=definition, archived_at=at or utcnow()))

    def _unrestored(self, form: str, fld: str | None, kinds: list[str]) -> list[dict]:
        a = system.archived_fields
        query = sa.select(a).where(a.c.app_key == self.new.key, a.c.form_key == form, a.c.kind.in_(kinds),
                                   a.c.restored_at.is_(None), a.c.purged_at.is_(None))
        query = query.where(a.c.field_key.is_(None) if fld is None else a.c.field_key == fld)
        return [dict(r) for r in self.conn.execute(query.order_by(a.c.id)).mappings()]

    def _mark_restored(self, archive_id: int) -> None:
        self.conn.execute(system.archived_fields.update().where(system.archived_fields.c.id == archive_id)
                          .values(restored_at=utcnow()))

    def _part_name(self, form: str, fld: str, storage: str) -> str:
        """The name a subform's or multiple relation's table has under the new form key
        (a form rename runs first and moves every table of the form)."""
        make = child_table_name if storage == "child_table" else link_table_name
        return make(self.new.key, form, fld)

    # ---- DDL helpers --------------------------------------------------------------------
    def _rename_column(self, table: str, old: str, new: str) -> None:
        self.conn.exec_driver_sql(f"ALTER TABLE {self.quote(table)} RENAME COLUMN {self.quote(old)} TO "
                                  f"{self.quote(new)}")

    def _rename_table(self, old: str, new: str) -> None:
        """Rename a table and the indexes named after it, so that a table created later
        under the old name (a re-added form or subform) gets its index names free."""
        self.op.rename_table(old, new)
        for index in sa.inspect(self.conn).get_indexes(new):
            columns = index["column_names"]
            prefix = "uq" if index["unique"] else "ix"
            if None in columns or index["name"] != physical_name(prefix, old, *columns):
                continue
            self._rename_index(index["name"], physical_name(prefix, new, *columns))

    def _rename_index(self, old: str, new: str) -> None:
        if self.dialect.renames_indexes:
            self.conn.exec_driver_sql(f"ALTER INDEX {self.quote(old)} RENAME TO {self.quote(new)}")
            return
        # SQLite cannot rename an index: create it again (its SQL already names the
        # renamed table) under the new name.
        sql = self.conn.execute(sa.text("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :name"),
                                {"name": old}).scalar_one()
        self.conn.exec_driver_sql(f"DROP INDEX {self.quote(old)}")
        self.conn.exec_driver_sql(_INDEX_NAME.sub(lambda m: m.group(1) + self.quote(new), sql, count=1))

    def _drop_indexes(self, table: str, column: str) -> None:
        for prefix in ("uq", "ix"):
            self.conn.exec_driver_sql(f"DROP INDEX IF EXISTS {self.quote(physical_name(prefix, table, column))}")

    def _create_indexes(self, table: sa.Table, columns: list[str]) -> None:
        for index in table.indexes:
            if [c.name for c in index.columns] and index.columns[0].name in columns \
                    and index.columns[0].name not in ("created_at", "updated_at", "owner_id"):
                self.conn.exec_driver_sql(f"DROP INDEX IF EXISTS {self.quote(index.name)}")
                index.create(self.conn)

    def _raw_form(self, app: AppDef, key: str) -> dict:
        return next(f for f in app.raw.get("forms", []) if f.get("key") == key)

    def _raw_field(self, app: AppDef, form: str, key: str) -> dict:
        return next(f for f in self._raw_form(app, form).get("fields", []) if f.get("key") == key)

    def _old_form_for(self, step: Step) -> FormDef:
        """The installed form a new form came from (through a rename, if any)."""
        form = self.new.require_form(step.form)
        return self.old.form(step.form) or self.old.require_form(form.renamed_from)

    def _old_field_for(self, step: Step) -> tuple[FormDef, FieldDef]:
        """The installed form and field a new field came from (through renames, if any)."""
        old_form = self._old_form_for(step)
        new = self.new.require_form(step.form).field(step.field)
        return old_form, old_form.field(step.field) or old_form.field(new.renamed_from)

    def _id_windows(self, table: str, what: str) -> Iterator[tuple[int, int]]:
        """(low, high]: consecutive id ranges of at most `batch` rows, with progress."""
        t = sa.table(table, sa.column("id"))
        total = self.conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
        done, last = 0, 0
        while True:
            ids = sa.select(t.c.id).where(t.c.id > last).order_by(t.c.id).limit(self.batch).subquery()
            high, count = self.conn.execute(sa.select(sa.func.max(ids.c.id), sa.func.count())).one()
            if not count:
                return
            yield last, high
            done += count
            last = high
            if self.progress:
                self.progress(what, done, total)

    # ---- run ----------------------------------------------------------------------
    def run(self, plan: Plan) -> list[dict[str, Any]]:
        if plan.refused:
            raise MigrationError("the plan refuses some changes:\n  " + "\n  ".join(plan.refused))
        for step in plan.steps:
            getattr(self, f"_{step.kind}")(step)
        return self.results

    # ---- forms -----------------------------------------------------------------------
    def _form_tables(self, tables: AppTables, form: str) -> list[tuple[str | None, str, str]]:
        """(field key or None, storage, table name) of every table of a form."""
        found = [(None, "form", tables.form_table(form).name)]
        found += [(k, "child_table", t.name) for (f, k), t in tables.children.items() if f == form]
        found += [(k, "link_table", t.name) for (f, k), t in tables.links.items() if f == form]
        return found

    def _add_form(self, step: Step) -> None:
        tables = [self.new_tables.form_table(step.form)]
        tables += [t for (f, _), t in self.new_tables.children.items() if f == step.form]
        tables += [t for (f, _), t in self.new_tables.links.items() if f == step.form]
        self.new_tables.metadata.create_all(self.conn, tables=tables)

    def _rename_form(self, step: Step) -> None:
        """Every table of the form moves to the new key (a subform or relation that the
        new definition renames or removes is handled by its own step, under the new key)."""
        old_key = step.data["old"]
        for fld, storage, name in self._form_tables(self.old_tables, old_key):
            target = self.new_tables.form_table(step.form).name if fld is None else \
                self._part_name(step.form, fld, storage)
            if target != name:
                self._rename_table(name, target)
        for table in (system.record_history, system.serial_counters, system.archived_fields):
            self.conn.execute(table.update().where(table.c.app_key == self.new.key,
                                                   table.c.form_key == old_key).values(form_key=step.form))

    def _archive_form(self, step: Step) -> None:
        definition = self._raw_form(self.old, step.form)
        for fld, _storage, name in self._form_tables(self.old_tables, step.form):
            archived = self._archive_name(name)
            self._rename_table(name, archived)
            self._record_archive(step.form, None, "table" if fld is None else "table_part", archived, name,
                                 definition if fld is None else {"part_of": step.form, "field": fld})

    def _restore_form(self, step: Step) -> None:
        for row in self._unrestored(step.form, None, ["table", "table_part"]):
            self._rename_table(row["physical_name"], row["original_name"])
            self._mark_restored(row["id"])

    # ---- fields ----------------------------------------------------------------------
    def _add_field(self, step: Step) -> None:
        form = self.new.require_form(step.form)
        fdef = form.field(step.field)
        ftype = self.new.types.of(fdef)
        table = self.new_tables.form_table(step.form)
        if ftype.storage == "column":
            for column in ftype.columns():
                self.op.add_column(table.name, column)
            self._create_indexes(table, [c.name for c in ftype.columns()])
            if fdef.default is not None:
                self._fill_default(table, ftype, fdef)
        elif ftype.storage == "child_table":
            self.new_tables.child_table(step.form, fdef.key).create(self.conn)
        elif ftype.storage == "link_table":
            self.new_tables.link_table(step.form, fdef.key).create(self.conn)

    def _fill_default(self, table: sa.Table, ftype, fdef: FieldDef) -> None:
        values = ftype.to_row(ftype.clean(fdef.default, self.ctx))
        target = sa.Table(table.name, sa.MetaData(), sa.Column("id", RecordId, primary_key=True),
                          *[sa.Column(c.name, c.type) for c in ftype.columns()])
        self.conn.execute(target.update().values(values))

    def _rename_field(self, step: Step) -> None:
        old_form = self._old_form_for(step)
        old = old_form.field(step.data["old"])
        moved = with_key(old, step.field)
        ftype = self.old.types.of(old)
        table = self.new_tables.form_table(step.form)
        if ftype.storage == "column":
            for old_col, new_col in zip(ftype.columns(), self.old.types.of(moved).columns()):
                self._drop_indexes(table.name, old_col.name)
                self._rename_column(table.name, old_col.name, new_col.name)
            self._create_indexes(table, [c.name for c in self.old.types.of(moved).columns()])
        elif ftype.storage in ("child_table", "link_table"):
            self._rename_table(self._part_name(step.form, old.key, ftype.storage),
                               self._part_name(step.form, step.field, ftype.storage))

    def _archive_field(self, step: Step) -> None:
        old_form = self.old.form(step.form) or next(
            self.old.require_form(f.renamed_from) for f in self.new.forms if f.key == step.form)
        old = old_form.field(step.field)
        self._archive_storage(step.form, old, self._raw_field(self.old, old_form.key, old.key))

    def _archive_storage(self, form_key: str, old: FieldDef, definition: dict) -> None:
        """Move a field's storage into the archive. `old` carries the key the storage has now."""
        ftype = self.old.types.of(old)
        table = self.new_tables.form_table(form_key).name
        at = utcnow()
        if ftype.storage == "column":
            for column in ftype.columns():
                self._drop_indexes(table, column.name)
                archived = self._archive_name(column.name)
                self._rename_column(table, column.name, archived)
                self._record_archive(form_key, old.key, "column", archived, column.name, definition, at)
        elif ftype.storage in ("child_table", "link_table"):
            name = self._part_name(form_key, old.key, ftype.storage)
            archived = self._archive_name(name)
            self._rename_table(name, archived)
            self._record_archive(form_key, old.key, "table", archived, name, definition)

    def _restore_field(self, step: Step) -> None:
        rows = self._unrestored(step.form, step.field, ["column", "table"])
        latest = max(r["archived_at"] for r in rows)
        table = self.new_tables.form_table(step.form)
        fdef = self.new.require_form(step.form).field(step.field)
        ftype = self.new.types.of(fdef)
        for row in (r for r in rows if r["archived_at"] == latest):   # the columns archived together
            if row["kind"] == "column":
                self._rename_column(table.name, row["physical_name"], row["original_name"])
            else:   # under the form's current key, whatever it was when archived
                self._rename_table(row["physical_name"], self._part_name(step.form, step.field, ftype.storage))
            self._mark_restored(row["id"])
        self._create_indexes(table, [c.name for c in ftype.columns()])

    def _retype_field(self, step: Step) -> None:
        old_form, original = self._old_field_for(step)
        old = with_key(original, step.field)
        new = self.new.require_form(step.form).field(step.field)
        definition = self._raw_field(self.old, old_form.key, original.key)
        table = self.new_tables.form_table(step.form)
        mode = step.data["mode"]
        if mode == "convert":
            self._convert_columns(table.name, old, new, step, definition, step.field)
            self._create_indexes(table, [c.name for c in self.new.types.of(new).columns()])
        elif mode == "to_links":
            self._to_links(step, old, definition)
        elif mode == "from_links":
            self._from_links(step, old, new, definition)
        elif mode == "archive":
            self._archive_storage(step.form, old, definition)
        elif mode == "add":
            self._add_field(Step("add_field", step.form, step.field))
        else:
            raise MigrationError(f"unknown retype mode {mode!r} for {step.form}.{step.field}")

    def _convert_columns(self, table_name: str, old: FieldDef, new: FieldDef, step: Step,
                         definition: dict, archive_key: str) -> None:
        """Convert every value into temporary columns, batch by batch, then archive the
        old columns and give the new ones their names."""
        old_type, new_type = self.old.types.of(old), self.new.types.of(new)
        new_columns = new_type.columns()
        temps = {c.name: physical_name("tmp", c.name) for c in new_columns}
        for column in new_columns:
            self.op.add_column(table_name, sa.Column(temps[column.name], column.type, nullable=True))
        reader = sa.Table(table_name, sa.MetaData(), sa.Column("id", RecordId, primary_key=True),
                          *[sa.Column(c.name, c.type) for c in old_type.columns()])
        writer = sa.Table(table_name, sa.MetaData(), sa.Column("id", RecordId, primary_key=True),
                          *[sa.Column(temps[c.name], c.type) for c in new_columns])
        total = self.conn.execute(sa.select(sa.func.count()).select_from(reader)).scalar_one()
        done, converted, failed, last = 0, 0, 0, 0
        while True:
            rows = self.conn.execute(sa.select(reader).where(reader.c.id > last).order_by(reader.c.id)
                                     .limit(self.batch)).mappings().all()
            if not rows:
                break
            batch = []
            for row in rows:
                value = old_type.from_row(row)
                try:
                    new_value = new_type.convert_from(old_type, value, self.ctx)
                    converted += value is not None
                except FieldError:
                    new_value, failed = None, failed + 1
                stored = new_type.to_row(new_value)
                batch.append((row["id"], *[stored[c.name] for c in new_columns]))
            self._write_batch(writer, [temps[c.name] for c in new_columns], batch)
            last = rows[-1]["id"]
            done += len(rows)
            if self.progress:
                self.progress(f"{step.form}.{step.field}", done, total)
        at = utcnow()
        for column in old_type.columns():
            self._drop_indexes(table_name, column.name)
            archived = self._archive_name(column.name)
            self._rename_column(table_name, column.name, archived)
            self._record_archive(step.form, archive_key, "column", archived, column.name, definition, at)
        for column in new_columns:
            self._rename_column(table_name, temps[column.name], column.name)
        self.results.append({"step": step.kind, "form": step.form, "field": step.field,
                             "rows": done, "converted": converted, "not_converted": failed})

    def _write_batch(self, writer: sa.Table, columns: list[str], batch: list[tuple]) -> None:
        """Store converted values: (id, value...) tuples. PostgreSQL gets one UPDATE per
        batch joined to unnest()ed arrays (two parameters, not one statement per row);
        SQLite, in process, gets the driver's executemany. Both apply the columns' bind
        processors themselves (SQLAlchemy's per-row parameter handling costs more than
        the update)."""
        processors = [writer.c[c].type.bind_processor(self.conn.dialect) for c in columns]
        if self.dialect.array_parameters:
            # Values travel as text arrays and are cast back in SQL: exact for numbers,
            # dates and JSON alike, whatever Python type the column's processor yields.
            params = {"ids": [row[0] for row in batch]}
            for i, process in enumerate(processors):
                params[f"v{i}"] = [_as_text(process(row[i + 1]) if process else row[i + 1]) for row in batch]
            names = ", ".join(f"v{i}" for i in range(len(columns)))
            arrays = ", ".join(f"CAST(:v{i} AS TEXT[])" for i in range(len(columns)))
            sets = ", ".join(f"{self.quote(c)} = CAST(d.v{i} AS {writer.c[c].type.compile(self.conn.dialect)})"
                             for i, c in enumerate(columns))
            self.conn.execute(sa.text(f"UPDATE {self.quote(writer.name)} AS t SET {sets} FROM unnest("
                                      f"CAST(:ids AS BIGINT[]), {arrays}) AS d(id, {names}) WHERE t.id = d.id"),
                              params)
            return
        sets = ", ".join(f"{self.quote(c)} = ?" for c in columns)
        self.conn.exec_driver_sql(
            f"UPDATE {self.quote(writer.name)} SET {sets} WHERE id = ?",
            [(*[process(v) if process else v for process, v in zip(processors, row[1:])], row[0])
             for row in batch])

    def _to_links(self, step: Step, old: FieldDef, definition: dict) -> None:
        """A single relation becomes multiple: each value becomes the first (only) link."""
        table = self.new_tables.form_table(step.form).name
        link = self.new_tables.link_table(step.form, step.field)
        link.create(self.conn)
        column = self.old.types.of(old).columns()[0].name
        source = sa.table(table, sa.column("id"), sa.column(column))
        copied = 0
        for low, high in self._id_windows(table, f"{step.form}.{step.field}"):
            rows = sa.select(source.c.id, source.c[column], sa.literal(0)).where(
                source.c.id > low, source.c.id <= high, source.c[column].is_not(None))
            copied += self.conn.execute(link.insert().from_select(
                ["source_id", "target_id", "position"], rows)).rowcount
        self._archive_storage(step.form, old, definition)
        self.results.append({"step": step.kind, "form": step.form, "field": step.field,
                             "rows": self._count(table), "converted": copied, "not_converted": 0})

    def _from_links(self, step: Step, old: FieldDef, new: FieldDef, definition: dict) -> None:
        """A multiple relation becomes single: each record keeps its first link; the
        link table, with every link, goes to the archive."""
        table = self.new_tables.form_table(step.form)
        column = self.new.types.of(new).columns()[0]
        self.op.add_column(table.name, sa.Column(column.name, column.type, nullable=True))
        link = sa.table(self._part_name(step.form, old.key, "link_table"), sa.column("source_id"),
                        sa.column("target_id"), sa.column("position"))
        target = sa.table(table.name, sa.column("id"), sa.column(column.name))
        first = (sa.select(link.c.target_id).where(link.c.source_id == target.c.id)
                 .order_by(link.c.position, link.c.target_id).limit(1).scalar_subquery())
        for low, high in self._id_windows(table.name, f"{step.form}.{step.field}"):
            self.conn.execute(target.update().where(target.c.id > low, target.c.id <= high)
                              .values({column.name: first}))
        self._archive_storage(step.form, old, definition)
        self._create_indexes(table, [column.name])
        kept = self.conn.execute(sa.select(sa.func.count()).select_from(target)
                                 .where(target.c[column.name].is_not(None))).scalar_one()
        self.results.append({"step": step.kind, "form": step.form, "field": step.field,
                             "rows": self._count(table.name), "converted": kept, "not_converted": 0})

    def _count(self, table: str) -> int:
        return self.conn.execute(sa.select(sa.func.count()).select_from(sa.table(table))).scalar_one()

    def _add_unique(self, step: Step) -> None:
        table = self.new_tables.form_table(step.form)
        fdef = self.new.require_form(step.form).field(step.field)
        column = self.new.types.of(fdef).columns()[0].name
        dupes = duplicate_groups(self.conn, table, column)
        if dupes:
            raise MigrationError(f"cannot make {step.form}.{step.field} unique: {len(dupes)} value(s) are "
                                 f"used more than once, e.g. {dupes[0][0]!r} ({dupes[0][1]} records)")
        self._drop_indexes(table.name, column)
        self._create_indexes(table, [column])

    def _drop_unique(self, step: Step) -> None:
        table = self.new_tables.form_table(step.form)
        column = self.new.types.of(self.new.require_form(step.form).field(step.field)).columns()[0].name
        self._drop_indexes(table.name, column)
        self._create_indexes(table, [column])

    _add_index = _drop_unique

    def _drop_index(self, step: Step) -> None:
        table = self.new_tables.form_table(step.form)
        column = self.new.types.of(self.new.require_form(step.form).field(step.field)).columns()[0].name
        self._drop_indexes(table.name, column)

    def _change_field(self, step: Step) -> None:
        """Labels, options, limits: definition only, nothing in the database changes."""

    _change_subfield = _change_field

    def _add_rule(self, step: Step) -> None:
        """Rules: definition only. Records that break a new rule keep their values and are
        refused on their next save until fixed (the plan counted them)."""

    _change_rule = _remove_rule = _add_rule

    def _recompute_field(self, step: Step) -> None:
        """Every record's value of a computed field, in batches (engine/schema_change/recompute_steps.py)."""
        node = Node(step.form, step.field)
        changed = recompute(self.conn, self.new, [node], self.ctx, self.progress, self.batch)
        self.results.append({"step": step.kind, "form": step.form, "field": step.field,
                             "changed": changed[str(node)]})

    def _recompute_subform(self, step: Step) -> None:
        """The formula columns of a subform's stored rows, in batches (engine/computed/row_formulas.py)."""
        changed = recompute_subform(self.conn, self.new, step.form, step.field,
                                    step.data["columns"], self.ctx, self.progress, self.batch)
        self.results.append({"step": step.kind, "form": step.form, "field": step.field,
                             "columns": step.data["columns"], "changed": changed})

    # ---- subform columns ---------------------------------------------------------------
    def _child(self, step: Step) -> tuple[str, FieldDef, FieldDef, dict]:
        """The child table (under its current name), the new and installed subform
        definitions, and the installed subform's raw definition."""
        table = self.new_tables.child_table(step.form, step.field).name
        new_sub = self.new.require_form(step.form).field(step.field)
        old_form, old_sub = self._old_field_for(step)
        return table, new_sub, old_sub, self._raw_field(self.old, old_form.key, old_sub.key)

    def _add_subfield(self, step: Step) -> None:
        table, new_sub, _, _ = self._child(step)
        for column in self.new.types.of(new_sub.subfield(step.data["sub"])).columns():
            self.op.add_column(table, column)

    def _rename_subfield(self, step: Step) -> None:
        table, _, old_sub, _ = self._child(step)
        old = old_sub.subfield(step.data["old"])
        for old_col, new_col in zip(self.old.types.of(old).columns(),
                                    self.old.types.of(with_key(old, step.data["sub"])).columns()):
            self._rename_column(table, old_col.name, new_col.name)

    def _retype_subfield(self, step: Step) -> None:
        table, new_sub, old_sub, raw_sub = self._child(step)
        new = new_sub.subfield(step.data["sub"])
        original = old_sub.subfield(step.data["sub"]) or old_sub.subfield(new.renamed_from)
        raw = next(f for f in raw_sub["fields"] if f["key"] == original.key)
        self._convert_columns(table, with_key(original, new.key), new,
                              Step(step.kind, step.form, f"{step.field}.{new.key}"), raw, f"{step.field}.{new.key}")

    def _archive_subfield(self, step: Step) -> None:
        table, _new_sub, old_sub, raw_sub = self._child(step)
        old = old_sub.subfield(step.data["sub"])
        raw = next(f for f in raw_sub["fields"] if f["key"] == old.key)
        at = utcnow()
        for column in self.old.types.of(old).columns():
            archived = self._archive_name(column.name)
            self._rename_column(table, column.name, archived)
            self._record_archive(step.form, f"{step.field}.{old.key}", "column", archived, column.name, raw, at)

    def _restore_subfield(self, step: Step) -> None:
        table = self.new_tables.child_table(step.form, step.field).name
        rows = self._unrestored(step.form, f"{step.field}.{step.data['sub']}", ["column"])
        latest = max(r["archived_at"] for r in rows)
        for row in (r for r in rows if r["archived_at"] == latest):
            self._rename_column(table, row["physical_name"], row["original_name"])
            self._mark_restored(row["id"])


def duplicate_groups(conn: sa.Connection, table: sa.Table, column: str, limit: int = 5) -> list[tuple]:
    """(value, count) of values used by more than one live record: one GROUP BY query."""
    col = table.c[column]
    return [tuple(r) for r in conn.execute(
        sa.select(col, sa.func.count()).where(table.c.deleted_at.is_(None), col.is_not(None))
        .group_by(col).having(sa.func.count() > 1).limit(limit))]

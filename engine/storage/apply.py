"""Executing a migration plan on a connection (inside the caller's transaction).

Columns and tables are never dropped here: what a plan removes is renamed into the
archive (recorded in fw_archived_fields) and can be restored. Value conversions run
in batches by id, so memory stays constant however large the table.
"""
from __future__ import annotations

from typing import Any, Callable

import sqlalchemy as sa
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext

from engine.definition.model import AppDef, FieldDef, FormDef
from engine.errors import FieldError, FormworkError
from engine.fields.base import ValueContext
from engine.fields.registry import field_type
from engine.storage import system
from engine.storage.physical import AppTables, physical_name
from engine.storage.plan import Plan, Step
from engine.storage.types import RecordId, utcnow

BATCH = 2000
Progress = Callable[[str, int, int], None]   # (what, done, total)


class MigrationError(FormworkError):
    pass


class Migrator:
    def __init__(self, conn: sa.Connection, old: AppDef | None, new: AppDef,
                 progress: Progress | None = None, batch: int = BATCH):
        self.conn, self.old, self.new = conn, old, new
        self.old_tables = AppTables.build(old) if old else None
        self.new_tables = AppTables.build(new)
        self.progress, self.batch = progress, batch
        self.op = Operations(MigrationContext.configure(conn))
        self.quote = conn.dialect.identifier_preparer.quote
        self.ctx = ValueContext(lang="en")
        self.results: list[dict[str, Any]] = []
        self._serial = None

    # ---- helpers ------------------------------------------------------------------
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

    def _rename_column(self, table: str, old: str, new: str) -> None:
        self.conn.exec_driver_sql(f"ALTER TABLE {self.quote(table)} RENAME COLUMN {self.quote(old)} TO "
                                  f"{self.quote(new)}")

    def _drop_indexes(self, table: str, column: str) -> None:
        for prefix in ("uq", "ix"):
            self.conn.exec_driver_sql(f"DROP INDEX IF EXISTS {self.quote(physical_name(prefix, table, column))}")

    def _create_indexes(self, table: sa.Table, columns: list[str]) -> None:
        for index in table.indexes:
            if [c.name for c in index.columns] and index.columns[0].name in columns \
                    and index.columns[0].name not in ("created_at", "updated_at", "owner_id"):
                self.conn.exec_driver_sql(f"DROP INDEX IF EXISTS {self.quote(index.name)}")
                index.create(self.conn)

    def _old_form(self, key: str) -> FormDef:
        return self.old.require_form(key)

    def _raw_form(self, app: AppDef, key: str) -> dict:
        return next(f for f in app.raw.get("forms", []) if f.get("key") == key)

    def _raw_field(self, app: AppDef, form: str, key: str) -> dict:
        return next(f for f in self._raw_form(app, form).get("fields", []) if f.get("key") == key)

    # ---- run ----------------------------------------------------------------------
    def run(self, plan: Plan) -> list[dict[str, Any]]:
        for step in plan.steps:
            getattr(self, f"_{step.kind}")(step)
        return self.results

    def _add_form(self, step: Step) -> None:
        tables = [self.new_tables.form_table(step.form)]
        tables += [t for (f, _), t in self.new_tables.children.items() if f == step.form]
        tables += [t for (f, _), t in self.new_tables.links.items() if f == step.form]
        self.new_tables.metadata.create_all(self.conn, tables=tables)

    def _form_tables(self, tables: AppTables, form: str) -> list[tuple[str | None, str]]:
        found = [(None, tables.form_table(form).name)]
        found += [(k, t.name) for (f, k), t in tables.children.items() if f == form]
        found += [(k, t.name) for (f, k), t in tables.links.items() if f == form]
        return found

    def _rename_form(self, step: Step) -> None:
        old_key = step.data["old"]
        new_names = dict(self._form_tables(self.new_tables, step.form))
        for fld, name in self._form_tables(self.old_tables, old_key):
            if fld in new_names and new_names[fld] != name:
                self.op.rename_table(name, new_names[fld])
        for table in (system.record_history, system.serial_counters):
            self.conn.execute(table.update().where(table.c.app_key == self.new.key,
                                                   table.c.form_key == old_key).values(form_key=step.form))

    def _archive_form(self, step: Step) -> None:
        definition = self._raw_form(self.old, step.form)
        for fld, name in self._form_tables(self.old_tables, step.form):
            archived = self._archive_name(name)
            self.op.rename_table(name, archived)
            self._record_archive(step.form, None, "table" if fld is None else "table_part", archived, name,
                                 definition if fld is None else {"part_of": step.form, "field": fld})

    def _restore_form(self, step: Step) -> None:
        rows = self.conn.execute(sa.select(system.archived_fields).where(
            system.archived_fields.c.app_key == self.new.key, system.archived_fields.c.form_key == step.form,
            system.archived_fields.c.kind.in_(["table", "table_part"]),
            system.archived_fields.c.restored_at.is_(None), system.archived_fields.c.purged_at.is_(None))).mappings()
        for row in rows:
            self.op.rename_table(row["physical_name"], row["original_name"])
            self.conn.execute(system.archived_fields.update().where(system.archived_fields.c.id == row["id"])
                              .values(restored_at=utcnow()))

    def _add_field(self, step: Step) -> None:
        form = self.new.require_form(step.form)
        fdef = form.field(step.field)
        ftype = field_type(fdef)
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
        old_form, form = self._old_form_for(step), self.new.require_form(step.form)
        old, new = old_form.field(step.data["old"]), form.field(step.field)
        old_type, new_type = field_type(old), field_type(new)
        table = self.new_tables.form_table(step.form).name
        if old_type.storage == "column":
            for old_col, new_col in zip(old_type.columns(), new_type.columns()):
                self._drop_indexes(table, old_col.name)
                self._rename_column(table, old_col.name, new_col.name)
            self._create_indexes(self.new_tables.form_table(step.form), [c.name for c in new_type.columns()])
        elif old_type.storage == "child_table":
            self.op.rename_table(self._old_part(step.form, old.key, "child"),
                                 self.new_tables.child_table(step.form, new.key).name)
        elif old_type.storage == "link_table":
            self.op.rename_table(self._old_part(step.form, old.key, "link"),
                                 self.new_tables.link_table(step.form, new.key).name)

    def _old_form_for(self, step: Step) -> FormDef:
        """The installed form a new form came from (through a rename, if any)."""
        form = self.new.require_form(step.form)
        return self.old.form(step.form) or self.old.require_form(form.renamed_from)

    def _old_part(self, form: str, fld: str, kind: str) -> str:
        """The table of a subform or multiple relation before its field is renamed (any
        form rename has already run, so the form part of the name is the new one)."""
        from engine.storage.physical import child_table_name, link_table_name
        make = child_table_name if kind == "child" else link_table_name
        return make(self.new.key, form, fld)

    def _archive_field(self, step: Step) -> None:
        old_form = self.old.form(step.form) or next(
            self.old.require_form(f.renamed_from) for f in self.new.forms if f.key == step.form)
        old = old_form.field(step.field)
        self._archive_storage(step.form, old, self._raw_field(self.old, old_form.key, old.key))

    def _archive_storage(self, form_key: str, old: FieldDef, definition: dict) -> None:
        ftype = field_type(old)
        table = self.new_tables.form_table(form_key).name
        at = utcnow()
        if ftype.storage == "column":
            for column in ftype.columns():
                self._drop_indexes(table, column.name)
                archived = self._archive_name(column.name)
                self._rename_column(table, column.name, archived)
                self._record_archive(form_key, old.key, "column", archived, column.name, definition, at)
        elif ftype.storage in ("child_table", "link_table"):
            from engine.storage.physical import child_table_name, link_table_name
            make = child_table_name if ftype.storage == "child_table" else link_table_name
            name = make(self.new.key, form_key, old.key)
            archived = self._archive_name(name)
            self.op.rename_table(name, archived)
            self._record_archive(form_key, old.key, "table", archived, name, definition)

    def _restore_field(self, step: Step) -> None:
        rows = list(self.conn.execute(sa.select(system.archived_fields).where(
            system.archived_fields.c.app_key == self.new.key, system.archived_fields.c.form_key == step.form,
            system.archived_fields.c.field_key == step.field, system.archived_fields.c.restored_at.is_(None),
            system.archived_fields.c.purged_at.is_(None))).mappings())
        latest = max(r["archived_at"] for r in rows)
        table = self.new_tables.form_table(step.form)
        for row in (r for r in rows if r["archived_at"] == latest):   # the columns archived together
            if row["kind"] == "column":
                self._rename_column(table.name, row["physical_name"], row["original_name"])
            else:
                self.op.rename_table(row["physical_name"], row["original_name"])
            self.conn.execute(system.archived_fields.update().where(system.archived_fields.c.id == row["id"])
                              .values(restored_at=utcnow()))
        fdef = self.new.require_form(step.form).field(step.field)
        self._create_indexes(table, [c.name for c in field_type(fdef).columns()])

    def _retype_field(self, step: Step) -> None:
        old_form = self._old_form_for(step)
        old = old_form.field(step.field) or old_form.field(
            self.new.require_form(step.form).field(step.field).renamed_from)
        new = self.new.require_form(step.form).field(step.field)
        if not step.data.get("convertible"):
            self._archive_storage(step.form, old, self._raw_field(self.old, old_form.key, old.key))
            self._add_field(Step("add_field", step.form, step.field))
            return
        table = self.new_tables.form_table(step.form)
        self._convert_columns(table.name, old, new, step)
        self._create_indexes(table, [c.name for c in field_type(new).columns()])

    def _convert_columns(self, table_name: str, old: FieldDef, new: FieldDef, step: Step,
                         raw_definition: dict | None = None) -> None:
        old_type, new_type = field_type(old), field_type(new)
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
        update = writer.update().where(writer.c.id == sa.bindparam("_id")).values(
            {temps[c.name]: sa.bindparam(f"_v_{i}") for i, c in enumerate(new_columns)})
        while True:
            rows = self.conn.execute(sa.select(reader).where(reader.c.id > last).order_by(reader.c.id)
                                     .limit(self.batch)).mappings().all()
            if not rows:
                break
            params = []
            for row in rows:
                value = old_type.from_row(row)
                try:
                    new_value = new_type.convert_from(old_type, value, self.ctx)
                    converted += value is not None
                except FieldError:
                    new_value, failed = None, failed + 1
                stored = new_type.to_row(new_value)
                params.append({"_id": row["id"], **{f"_v_{i}": stored[c.name] for i, c in enumerate(new_columns)}})
            self.conn.execute(update, params)
            last = rows[-1]["id"]
            done += len(rows)
            if self.progress:
                self.progress(f"{step.form}.{step.field}", done, total)
        definition = raw_definition or self._raw_field(self.old, self._old_form_for(step).key, old.key)
        at = utcnow()
        for column in old_type.columns():
            self._drop_indexes(table_name, column.name)
            archived = self._archive_name(column.name)
            self._rename_column(table_name, column.name, archived)
            self._record_archive(step.form, old.key, "column", archived, column.name, definition, at)
        for column in new_columns:
            self._rename_column(table_name, temps[column.name], column.name)
        self.results.append({"step": step.kind, "form": step.form, "field": step.field,
                             "rows": done, "converted": converted, "not_converted": failed})

    def _add_unique(self, step: Step) -> None:
        table = self.new_tables.form_table(step.form)
        fdef = self.new.require_form(step.form).field(step.field)
        column = field_type(fdef).columns()[0].name
        dupes = duplicate_groups(self.conn, table, column)
        if dupes:
            raise MigrationError(f"cannot make {step.form}.{step.field} unique: {len(dupes)} value(s) are "
                                 f"used more than once, e.g. {dupes[0][0]!r} ({dupes[0][1]} records)")
        self._drop_indexes(table.name, column)
        self._create_indexes(table, [column])

    def _drop_unique(self, step: Step) -> None:
        table = self.new_tables.form_table(step.form)
        column = field_type(self.new.require_form(step.form).field(step.field)).columns()[0].name
        self._drop_indexes(table.name, column)
        self._create_indexes(table, [column])

    _add_index = _drop_unique

    def _drop_index(self, step: Step) -> None:
        table = self.new_tables.form_table(step.form)
        column = field_type(self.new.require_form(step.form).field(step.field)).columns()[0].name
        self._drop_indexes(table.name, column)

    def _change_field(self, step: Step) -> None:
        """Labels, options, limits: definition only, nothing in the database changes."""

    # ---- subform columns ---------------------------------------------------------------
    def _child(self, step: Step) -> tuple[str, FieldDef, FieldDef | None]:
        table = self.new_tables.child_table(step.form, step.field).name
        new_sub = self.new.require_form(step.form).field(step.field)
        old_sub = self._old_form_for(step).field(step.field)
        return table, new_sub, old_sub

    def _add_subfield(self, step: Step) -> None:
        table, new_sub, _ = self._child(step)
        for column in field_type(new_sub.subfield(step.data["sub"])).columns():
            self.op.add_column(table, column)

    def _rename_subfield(self, step: Step) -> None:
        table, new_sub, old_sub = self._child(step)
        old_cols = field_type(old_sub.subfield(step.data["old"])).columns()
        new_cols = field_type(new_sub.subfield(step.data["sub"])).columns()
        for old_col, new_col in zip(old_cols, new_cols):
            self._rename_column(table, old_col.name, new_col.name)

    def _retype_subfield(self, step: Step) -> None:
        table, new_sub, old_sub = self._child(step)
        new = new_sub.subfield(step.data["sub"])
        old = old_sub.subfield(step.data["sub"]) or old_sub.subfield(new.renamed_from)
        raw = next(f for f in self._raw_field(self.old, self._old_form_for(step).key, old_sub.key)["fields"]
                   if f["key"] == old.key)
        self._convert_columns(table, old, new, Step(step.kind, step.form, f"{step.field}.{new.key}"), raw)

    def _archive_subfield(self, step: Step) -> None:
        table, _new_sub, old_sub = self._child(step)
        old = old_sub.subfield(step.data["sub"])
        for column in field_type(old).columns():
            archived = self._archive_name(column.name)
            self._rename_column(table, column.name, archived)
            self._record_archive(step.form, f"{step.field}.{old.key}", "column", archived, column.name,
                                 {"subform": step.field, "key": old.key, "type": old.type})


def duplicate_groups(conn: sa.Connection, table: sa.Table, column: str, limit: int = 5) -> list[tuple]:
    """(value, count) of values used by more than one live record: one GROUP BY query."""
    col = table.c[column]
    return [tuple(r) for r in conn.execute(
        sa.select(col, sa.func.count()).where(table.c.deleted_at.is_(None), col.is_not(None))
        .group_by(col).having(sa.func.count() > 1).limit(limit))]

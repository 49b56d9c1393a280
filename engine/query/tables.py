"""The physical schema of an app: one table per form, one typed column per field,
a child table per subform and a link table per multiple relation.

Names are derived from stable keys (never from labels), so renaming a label never
touches data. Keys are validated snake_case without double underscores, which makes
the "__" separator below unambiguous; over-long names are shortened with a hash.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import sqlalchemy as sa

from engine.definition.model import AppDef, FieldDef, FormDef
from engine.fields.registry import FieldTypes
from engine.storage.types import RecordId, UTCDateTime

MAX_IDENTIFIER = 63  # PostgreSQL's limit; SQLite has none
SYSTEM_COLUMNS = ("id", "created_at", "updated_at", "created_by", "updated_by",
                  "owner_id", "version", "deleted_at")
CHILD_SYSTEM_COLUMNS = ("id", "parent_id", "position")


def physical_name(*parts: str) -> str:
    name = "__".join(parts)
    if len(name) <= MAX_IDENTIFIER:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return f"{name[:MAX_IDENTIFIER - 9]}_{digest}"


def form_table_name(app_key: str, form_key: str) -> str:
    return physical_name(app_key, form_key)


def child_table_name(app_key: str, form_key: str, field_key: str) -> str:
    return physical_name(app_key, form_key, field_key)


def link_table_name(app_key: str, form_key: str, field_key: str) -> str:
    return physical_name(app_key, form_key, field_key, "links")


def system_columns() -> list[sa.Column]:
    return [
        sa.Column("id", RecordId, primary_key=True, autoincrement=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", RecordId, nullable=True),
        sa.Column("updated_by", RecordId, nullable=True),
        sa.Column("owner_id", RecordId, nullable=True),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
    ]


def unique_index(table_name: str, column: str, live_only: bool = True) -> sa.Index:
    """Unique among live records: a record in the recycle bin does not hold its value."""
    kwargs = {}
    if live_only:
        kwargs = {"sqlite_where": sa.text("deleted_at IS NULL"),
                  "postgresql_where": sa.text("deleted_at IS NULL")}
    return sa.Index(physical_name("uq", table_name, column), column, unique=True, **kwargs)


def plain_index(table_name: str, *columns: str) -> sa.Index:
    return sa.Index(physical_name("ix", table_name, *columns), *columns)


def wants_index(form: FormDef, fdef: FieldDef, types: FieldTypes) -> bool:
    sorted_keys = {s.get("field") for s in form.default_sort if isinstance(s, dict)}
    return fdef.index or fdef.key in sorted_keys or types.of(fdef).indexed()


@dataclass
class AppTables:
    """SQLAlchemy tables of one app definition (not bound to a connection), built from its
    bound field types (`types`), which stay with them for the code writing SQL over them."""

    app: AppDef
    types: FieldTypes
    metadata: sa.MetaData = field(default_factory=sa.MetaData)
    forms: dict[str, sa.Table] = field(default_factory=dict)
    children: dict[tuple[str, str], sa.Table] = field(default_factory=dict)
    links: dict[tuple[str, str], sa.Table] = field(default_factory=dict)

    @classmethod
    def build(cls, app: AppDef, types: FieldTypes) -> "AppTables":
        tables = cls(app, types)
        for form in app.forms:
            tables._add_form(form)
        return tables

    def form_table(self, form_key: str) -> sa.Table:
        return self.forms[form_key]

    def child_table(self, form_key: str, field_key: str) -> sa.Table:
        return self.children[(form_key, field_key)]

    def link_table(self, form_key: str, field_key: str) -> sa.Table:
        return self.links[(form_key, field_key)]

    def _add_form(self, form: FormDef) -> None:
        name = form_table_name(self.app.key, form.key)
        columns: list[sa.Column] = system_columns()
        indexes = [plain_index(name, "created_at"), plain_index(name, "updated_at"),
                   plain_index(name, "owner_id")]
        for fdef in form.fields:
            ftype = self.types.of(fdef)
            if ftype.storage == "column":
                cols = ftype.columns()
                columns.extend(cols)
                if (fdef.unique and ftype.can_be_unique) or ftype.always_unique:
                    indexes.append(unique_index(name, cols[0].name))
                elif wants_index(form, fdef, self.types):
                    indexes.append(plain_index(name, cols[0].name))
        table = sa.Table(name, self.metadata, *columns, *indexes)
        self.forms[form.key] = table
        for fdef in form.fields:
            ftype = self.types.of(fdef)
            if ftype.storage == "child_table":
                self.children[(form.key, fdef.key)] = self._child_table(form, fdef, table)
            elif ftype.storage == "link_table":
                self.links[(form.key, fdef.key)] = self._link_table(form, fdef, table)

    def _child_table(self, form: FormDef, fdef: FieldDef, parent: sa.Table) -> sa.Table:
        name = child_table_name(self.app.key, form.key, fdef.key)
        columns = [
            sa.Column("id", RecordId, primary_key=True, autoincrement=True),
            sa.Column("parent_id", RecordId,
                      sa.ForeignKey(f"{parent.name}.id", ondelete="CASCADE"), nullable=False),
            sa.Column("position", sa.Integer, nullable=False),
        ]
        for sub in fdef.fields:
            columns.extend(self.types.of(sub).columns())
        return sa.Table(name, self.metadata, *columns,
                        plain_index(name, "parent_id", "position"))

    def _link_table(self, form: FormDef, fdef: FieldDef, source: sa.Table) -> sa.Table:
        name = link_table_name(self.app.key, form.key, fdef.key)
        return sa.Table(
            name, self.metadata,
            sa.Column("source_id", RecordId,
                      sa.ForeignKey(f"{source.name}.id", ondelete="CASCADE"), primary_key=True),
            sa.Column("target_id", RecordId, primary_key=True),
            sa.Column("position", sa.Integer, nullable=False, server_default="0"),
            plain_index(name, "target_id"),
        )

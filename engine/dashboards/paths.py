"""A field path of a widget's form as SQL: the form's own table, and a LEFT OUTER JOIN
of the target's table for each single relation walked (`customer.level`,
`contract.customer.owner`); a lookup field walks its relation. Paths through a multiple
relation or into a subform have many values per record and are refused: a widget
groups and filters the records of its form, one row each.

    joins = Joins(tables, form, table)
    place = joins.place("customer.level")       # Place: the field, its type, its column
    select(...).select_from(joins.from_clause())

`locate` says the same without SQL (for the validator): the field a path ends at, or why
there is none.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from engine.computed.paths import PathFailure, resolve
from engine.definition.model import AppDef, FieldDef, FormDef
from engine.fields.base import FieldType
from engine.fields.registry import FieldTypes, field_type
from engine.fields.relation import RelationOptions
from engine.fields.system_fields import SYSTEM_FIELD_KEYS, system_field
from engine.query.tables import AppTables
from engine.suggest import did_you_mean


class PathError(Exception):
    def __init__(self, message: str, suggestion: str | None = None):
        self.message, self.suggestion = message, suggestion
        super().__init__(message)


@dataclass(frozen=True)
class Located:
    """Where a path ends: the relation fields walked (form key, relation key), the form
    and the field read."""

    hops: tuple[tuple[str, str], ...]
    form: FormDef
    field: FieldDef
    system: bool


def locate(app: AppDef, form: FormDef, path: str, types: FieldTypes | None = None) -> Located:
    """The field `path` reads from a record of `form`; raises PathError saying why not."""
    parts = tuple(path.split("."))
    if len(parts) == 1 and form.field(parts[0]) is None:
        fdef = system_field(parts[0])
        if fdef is not None:
            return Located((), form, fdef, True)
    resolved = resolve(app, form, parts)
    if isinstance(resolved, PathFailure):
        at = _form_at(app, form, parts[:resolved.index])
        if resolved.reason == "unknown" and at is not None:
            keys = at.field_keys() + (list(SYSTEM_FIELD_KEYS) if resolved.index == 0 else [])
            _raise(f"{path!r}: form {at.key!r} has no field {parts[resolved.index]!r}; name a field of the "
                   "form or a path through its relations, like customer.level",
                   did_you_mean(parts[resolved.index], keys))
        _raise(f"{path!r}: {parts[resolved.index - 1] if resolved.index else parts[0]!r} is not a relation, "
               "so the path cannot go on through it; end the path at a field")
    if resolved.array or resolved.subform is not None:
        _raise(f"{path!r} reads a multiple relation or a subform, which has many values per record; "
               "group and filter by a field with one value per record")
    hops = tuple((hop.form, hop.field) for hop in resolved.relation_hops)
    return Located(hops, app.require_form(resolved.form), resolved.field, False)


def _form_at(app: AppDef, form: FormDef, prefix: tuple[str, ...]) -> FormDef | None:
    """The form whose fields follow `prefix` (a walk through relations)."""
    if not prefix:
        return form
    resolved = resolve(app, form, prefix)
    if isinstance(resolved, PathFailure) or resolved.field.type != "relation":
        return None
    return app.form(RelationOptions.of(resolved.field).target)


def _raise(message: str, suggestion: str | None = None):
    raise PathError(message, suggestion)


@dataclass(frozen=True)
class Place:
    """A path's field, its bound type and the SQL column holding its value."""

    path: str
    field: FieldDef
    ftype: FieldType
    column: Any
    source: Any               # the table (or join alias) holding the column
    form: FormDef


class Joins:
    """The FROM clause of one widget: its form's table and the joined relations."""

    def __init__(self, tables: AppTables, form: FormDef, table: sa.Table):
        self.tables, self.form, self.table = tables, form, table
        self.app, self.types = tables.app, tables.types
        self._aliases: dict[tuple[tuple[str, str], ...], Any] = {}
        self._joins: list[tuple[Any, Any]] = []

    def place(self, path: str) -> Place:
        found = locate(self.app, self.form, path, self.types)
        source = self.table
        for depth in range(len(found.hops)):
            source = self._alias(found.hops[:depth + 1], source)
        ftype = field_type(found.field) if found.system else self.types.of(found.field)
        if ftype.storage != "column":
            raise PathError(f"{path!r} ({found.field.type}) has no single value stored with the record; "
                            "name a text, number, date, choice, member or relation field")
        return Place(path, found.field, ftype, source.c[ftype.column_name], source, found.form)

    def _alias(self, hops: tuple[tuple[str, str], ...], source) -> Any:
        alias = self._aliases.get(hops)
        if alias is None:
            form_key, relation_key = hops[-1]
            relation = self.app.require_form(form_key).field(relation_key)
            rtype = self.types.of(relation)
            alias = self.tables.form_table(RelationOptions.of(relation).target).alias(f"j{len(self._aliases) + 1}")
            self._aliases[hops] = alias
            self._joins.append((alias, alias.c.id == source.c[rtype.column_name]))
        return alias

    def alias_of(self, table: sa.Table, prefix: str) -> Any:
        """`table` under a name no other join of this widget has (`prefix` and a number)."""
        return table.alias(f"{prefix}{len(self._joins) + 1}")

    def outer_join(self, target, on) -> None:
        """One more LEFT OUTER JOIN (the names of members, departments, related records)."""
        self._joins.append((target, on))

    def from_clause(self) -> Any:
        joined = self.table
        for target, on in self._joins:
            joined = joined.outerjoin(target, on)
        return joined

    @property
    def forms(self) -> set[str]:
        """The forms whose tables the clause reads."""
        return {self.form.key} | {RelationOptions.of(self.app.require_form(hops[-1][0]).field(hops[-1][1])).target
                                  for hops in self._aliases}

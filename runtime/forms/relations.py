"""The records a draft's relations point at, read for the form page: one query per
relation chosen, within the actor's row scope of the target form.

One query gives, for the chosen ids: whether each exists (not in the recycle bin: a
save refuses the others with `relation_missing`, the same issue), whether the actor
may reach it (the target's row scope, selected as a column rather than filtered, so
that a record outside the scope still counts as existing, as it does for a save), its
title, the fields the form's lookups show and the fields its formulas read through
the relation. What the page shows of the record itself (its title, the lookups) is
what the actor may see: nothing of a record outside their scope, no field hidden from
them. The form's formulas read it as the save will (the record service shows a
formula's stored value whatever it was computed from, runtime/permissions/policy.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from engine.compiled.app import App
from engine.definition.model import FormDef
from engine.fields.base import FieldType, ValueContext
from engine.fields.relation import LookupField, RelationField
from runtime.permissions import VIEW

_IN_SCOPE = "_in_scope"


@dataclass
class ChosenRecords:
    """What one relation's chosen records show on the form page."""

    relation: str
    found: dict[int, dict[str, Any]] = field(default_factory=dict)  # every chosen record there is
    shown: dict[int, dict[str, Any]] = field(default_factory=dict)  # what the actor may see of it
    titles: dict[int, str] = field(default_factory=dict)


class RelationReads:
    """Plans and runs the reads of a form's chosen relations."""

    def __init__(self, app: App, form: FormDef, ctx: ValueContext, access_of):
        """`access_of(form_key) -> FormAccess`: the actor's access to a target form."""
        self.app, self.form, self.ctx, self.access_of = app, form, ctx, access_of
        self.relations: dict[str, RelationField] = {
            f.key: t for f in form.fields if isinstance(t := app.types.of(f), RelationField)}
        self.lookups: dict[str, list[tuple[str, str]]] = {}     # relation -> [(lookup key, target key)]
        for fdef in form.fields:
            ftype = app.types.of(fdef)
            if isinstance(ftype, LookupField) and ftype.relation_key in self.relations:
                self.lookups.setdefault(ftype.relation_key, []).append((fdef.key, ftype.target_field_key))

    def read(self, conn: sa.Connection, key: str, ids: list[int], wanted: set[str]) -> ChosenRecords:
        """The chosen `ids` of relation `key`: the target fields in `wanted` (what the
        form's formulas read, as the save reads them), its title and the lookups' fields
        (what the page shows: only those the actor may see, of records in their scope)."""
        relation = self.relations[key]
        target = self.app.require_form(relation.target)
        access = self.access_of(target.key)
        readable = access.can(VIEW)
        title_key = target.title_key()
        shown = {target_key for _, target_key in self.lookups.get(key, [])} | ({title_key} if title_key else set())
        shown = {k for k in shown if readable and access.can_see(k)}
        types = {k: self.app.types.of(target.field(k)) for k in sorted(set(wanted) | shown)
                 if target.field(k) is not None}
        types = {k: t for k, t in types.items() if t.storage == "column"}
        table = self.app.tables.form_table(target.key)
        columns = [table.c.id] + [table.c[c.name] for t in types.values() for c in t.columns()]
        if access.row_scope is not None:
            columns.append(sa.case((access.row_scope, 1), else_=0).label(_IN_SCOPE))
        query = sa.select(*columns).where(table.c.id.in_(ids), table.c.deleted_at.is_(None))
        chosen = ChosenRecords(key)
        for mapping in conn.execute(query).mappings():
            rid = mapping["id"]
            values = {"id": rid, **{k: t.from_row(mapping) for k, t in types.items()}}
            chosen.found[rid] = values
            if not readable or (access.row_scope is not None and not mapping[_IN_SCOPE]):
                continue
            chosen.shown[rid] = {k: v for k, v in values.items() if k in shown}
            title = chosen.shown[rid].get(title_key) if title_key in shown else None
            chosen.titles[rid] = _title(types[title_key], title, rid, self.ctx) if title_key in shown \
                else f"#{rid}"
        return chosen

    def lookup_values(self, key: str, chosen: ChosenRecords, record_id: int | None) -> dict[str, Any]:
        """{lookup key: JSON value} of the lookups through relation `key` (empty when
        nothing is chosen, or the chosen record is outside the actor's scope)."""
        target = self.app.require_form(self.relations[key].target)
        row = chosen.shown.get(record_id) if record_id is not None else None
        values = {}
        for lookup_key, target_key in self.lookups.get(key, []):
            fdef = target.field(target_key)
            if row is None or fdef is None or target_key not in row:
                values[lookup_key] = None
            else:
                values[lookup_key] = self.app.types.of(fdef).to_json(row[target_key])
        return values


def _title(ftype: FieldType, value: Any, rid: int, ctx: ValueContext) -> str:
    shown = ftype.display(value, ctx) if value is not None else ""
    return shown or f"#{rid}"


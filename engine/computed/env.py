"""The type environment of a form's formulas (the checker's `FormulaEnv`).

It answers what type a field path has, for the three places formulas appear:

- `scope="record"`: formula fields and validation rules read the record, related
  records (`customer.level`), subform columns (`items.price`) and lookups;
- `scope="own"`: default formulas and visibility conditions read only the record's
  own fields, because they run while a form is being filled, before anything is saved.
"""
from __future__ import annotations

from typing import Callable, Iterable

from engine.computed.paths import PathFailure, field_kind, form_at, resolve
from engine.definition.model import AppDef, FieldDef, FormDef
from engine.fields.registry import FieldTypes, computed_kind, field_type, get_type
from engine.fields.relation import RelationOptions
from engine.formula import EvalContext

# (form key, field) -> formula type of a computed field, while types are being inferred.
TypeOf = Callable[[str, FieldDef], "str | None"]


def field_formula_type(fdef: FieldDef, types: FieldTypes | None = None) -> str | None:
    """The formula type of a stored field ("number", "date"...), None when a formula
    cannot read it (a location, a subform as a whole). A computed field's type is its
    result, which only the app's bound `types` know."""
    if not isinstance(fdef.type, str) or get_type(fdef.type) is None:
        return None
    kind = field_kind(fdef)
    if kind == "relation" and RelationOptions.of(fdef).multiple:
        return "array:number"
    if kind in ("subform", "lookup"):
        return None
    if computed_kind(fdef) is not None and types is None:
        return None
    try:
        return (types.of(fdef) if types is not None else field_type(fdef)).formula_type
    except Exception:   # a field whose config is broken: reported by its own checks
        return None


def evaluation_context(ctx) -> "EvalContext":
    """The formula evaluation context of a write or a read (`ctx`, a ValueContext): the
    workspace time zone, its clock read once, and the acting user (CURRENTUSER())."""
    user = {"id": ctx.user_id} if ctx.user_id is not None else None
    return EvalContext(tz=ctx.tz, now=ctx.current_time(), user=user)


def array_of(type_name: str) -> str:
    return "array" if type_name.startswith("array") else f"array:{type_name}"


class AppEnv:
    """The FormulaEnv of the formulas of one form."""

    def __init__(self, app: AppDef, form: FormDef, scope: str = "record", type_of: TypeOf | None = None,
                 types: FieldTypes | None = None):
        self.app, self.form, self.scope = app, form, scope
        self.type_of, self.types = type_of, types

    def field_type(self, path: tuple[str, ...]) -> str | None:
        resolved = resolve(self.app, self.form, path)
        if isinstance(resolved, PathFailure):
            return None
        if self.scope == "own" and resolved.hops:
            return None
        kind = self.type_of(resolved.form, resolved.field) if self.type_of else None
        kind = kind or field_formula_type(resolved.field, self.types)
        if kind is None:
            return None
        return array_of(kind) if resolved.array else kind

    def candidates(self, prefix: tuple[str, ...]) -> Iterable[str]:
        if self.scope == "own" and prefix:
            return []
        found = form_at(self.app, self.form, prefix)
        if found is None:
            return []
        form, subform = found
        fields = subform.fields if subform is not None else form.fields
        return [f.key for f in fields]


class RowEnv:
    """The FormulaEnv of a subform column's formula: the row's columns, by bare key."""

    def __init__(self, subform: FieldDef, type_of: Callable[[FieldDef], "str | None"] | None = None,
                 types: FieldTypes | None = None):
        self.subform, self.type_of, self.types = subform, type_of, types

    def field_type(self, path: tuple[str, ...]) -> str | None:
        column = self.subform.subfield(path[0]) if len(path) == 1 else None
        if column is None:
            return None
        found = self.type_of(column) if self.type_of and computed_kind(column) == "formula" else None
        return found or field_formula_type(column, self.types)

    def candidates(self, prefix: tuple[str, ...]) -> Iterable[str]:
        return [] if prefix else [c.key for c in self.subform.fields]

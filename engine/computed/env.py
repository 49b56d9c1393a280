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

# (form key, field) -> formula type of a computed field, while types are being inferred.
TypeOf = Callable[[str, FieldDef], "str | None"]


def field_formula_type(fdef: FieldDef) -> str | None:
    """The formula type of a stored field ("number", "date"...), None when a formula
    cannot read it (a location, a subform as a whole)."""
    from engine.fields.registry import field_type, get_type
    if not isinstance(fdef.type, str) or get_type(fdef.type) is None:
        return None
    kind = field_kind(fdef)
    if kind == "relation" and fdef.option("multiple"):
        return "array:number"
    if kind in ("subform", "lookup"):
        return None
    try:
        return field_type(fdef).formula_type
    except Exception:   # a field whose config is broken: reported by its own checks
        return None


def evaluation_context(ctx) -> "EvalContext":
    """The formula evaluation context of a write or a read (`ctx`, a ValueContext): the
    workspace time zone, its clock read once, and the acting user (CURRENTUSER())."""
    from engine.formula import EvalContext
    user = {"id": ctx.user_id} if ctx.user_id is not None else None
    return EvalContext(tz=ctx.tz, now=ctx.current_time(), user=user)


def array_of(type_name: str) -> str:
    return "array" if type_name.startswith("array") else f"array:{type_name}"


class AppEnv:
    """The FormulaEnv of the formulas of one form."""

    def __init__(self, app: AppDef, form: FormDef, scope: str = "record", type_of: TypeOf | None = None):
        self.app, self.form, self.scope = app, form, scope
        self.type_of = type_of

    def field_type(self, path: tuple[str, ...]) -> str | None:
        resolved = resolve(self.app, self.form, path)
        if isinstance(resolved, PathFailure):
            return None
        if self.scope == "own" and resolved.hops:
            return None
        kind = self.type_of(resolved.form, resolved.field) if self.type_of else None
        kind = kind or field_formula_type(resolved.field)
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

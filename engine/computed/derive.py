"""Facts about computed fields that only the whole app can tell, filled into
`FieldDef.derived` when an AppDef is built:

- a formula field without `result:` gets the type the checker infers for its formula
  (`amount - paid` is a number; `signed_on + 365` is a date, because `signed_on` is a
  date field of the form);
- a rollup gets its result type (a count or sum is a number; the min or max of a date
  field is a date) and its decimal places (those of the field it adds up).

The field types read these when they choose their column, so every code path that
builds tables from an AppDef agrees. It never raises: a definition with problems gets
what can be told, and the validator reports the rest.
"""
from __future__ import annotations

from engine.computed.env import AppEnv, field_formula_type
from engine.definition.model import AppDef, FieldDef, FormDef

_IN_PROGRESS = object()


def derive_types(app: AppDef) -> None:
    deriver = _Deriver(app)
    for form in app.forms:
        for fdef in form.fields:
            for column in fdef.fields:      # a subform's formula columns (read by the form's formulas)
                deriver.result_of(form, column)
            deriver.result_of(form, fdef)


def computed_kind(fdef: FieldDef) -> str | None:
    """"formula" or "rollup" for a computed field, else None."""
    from engine.fields.computed import FormulaField, RollupField
    from engine.fields.registry import get_type
    cls = get_type(fdef.type) if isinstance(fdef.type, str) else None
    if cls is None:
        return None
    if issubclass(cls, FormulaField):
        return "formula"
    if issubclass(cls, RollupField):
        return "rollup"
    return None


class _Deriver:
    def __init__(self, app: AppDef):
        self.app = app
        self.memo: dict[int, object] = {}
        # Subform columns -> their subform: a column's formula reads its row, not the form.
        self.subforms = {id(column): fdef for form in app.forms for fdef in form.fields for column in fdef.fields}

    def result_of(self, form: FormDef, fdef: FieldDef) -> str | None:
        """The formula type of a computed field ("any" when it cannot be told yet)."""
        kind = computed_kind(fdef)
        if kind is None:
            return None
        found = self.memo.get(id(fdef))
        if found is _IN_PROGRESS:
            return "any"        # a cycle: reported by the validator
        if found is not None:
            return found
        self.memo[id(fdef)] = _IN_PROGRESS
        try:
            result = self._formula(form, fdef) if kind == "formula" else self._rollup(fdef)
        except Exception:     # a broken definition: the validator says what is wrong
            result = None
        self.memo[id(fdef)] = result or "any"
        return result or "any"

    def type_of(self, form_key: str, fdef: FieldDef) -> str | None:
        form = self.app.form(form_key)
        return self.result_of(form, fdef) if form is not None else None

    def _formula(self, form: FormDef, fdef: FieldDef) -> str | None:
        from engine.fields.computed import RESULT_TYPES
        written = fdef.option("result")
        if written in RESULT_TYPES:
            return written
        text = fdef.option("formula")
        if not isinstance(text, str):
            return None
        from engine.formula import check, parse
        try:
            formula = parse(text)
        except Exception:
            return None
        subform = self.subforms.get(id(fdef))
        if subform is not None:
            from engine.computed.rows import RowEnv
            env = RowEnv(subform, lambda column: self.result_of(form, column))
        else:
            env = AppEnv(self.app, form, type_of=self.type_of)
        result = check(formula, env).result_type
        if result in RESULT_TYPES:
            fdef.derived["result"] = result
            return result
        return None

    def _rollup(self, fdef: FieldDef) -> str | None:
        aggregate = fdef.option("aggregate")
        if aggregate in ("count", "counta"):
            fdef.derived.update(result="number", precision=0)
            return "number"
        source = self.app.form(fdef.option("source")) if isinstance(fdef.option("source"), str) else None
        field_key = fdef.option("field")
        target = source.field(field_key) if source is not None and isinstance(field_key, str) else None
        if target is None:
            return None
        kind = self.result_of(source, target) or field_formula_type(target)
        if aggregate in ("sum", "avg") or kind not in ("date", "datetime"):
            precision = _precision(target)
            if aggregate == "avg":
                precision = max(2, precision)
            fdef.derived.update(result="number", precision=precision)
            return "number"
        fdef.derived.update(result=kind)
        return kind


def _precision(fdef: FieldDef) -> int:
    """The decimal places of the numbers a field holds (0 for whole numbers)."""
    from engine.fields.registry import field_type
    try:
        ftype = field_type(fdef)
    except Exception:
        return 2
    value = getattr(ftype, "value_type", ftype)
    places = getattr(value, "precision", None)
    return int(places) if isinstance(places, int) else 0

"""Facts about computed fields that only the whole app can tell, worked out once per
definition (by compile_app, and by the validator) and handed to the field types
through FieldTypes (engine/fields/registry.py):

- a formula field without `result:` gets the type the checker infers for its formula
  (`amount - paid` is a number; `signed_on + 365` is a date, because `signed_on` is a
  date field of the form);
- a rollup gets its result type (a count or sum is a number; the min or max of a date
  field is a date) and its decimal places (those of the field it adds up).

The field types read these when they choose their column, so every code path that
builds tables from an app agrees. It never raises: a definition with problems gets
what can be told, and the validator reports the rest. The definition itself is never
written to.
"""
from __future__ import annotations

from engine.computed.env import AppEnv, RowEnv, field_formula_type
from engine.definition.model import AppDef, FieldDef, FormDef
from engine.fields.base import DerivedType
from engine.fields.computed import RESULT_TYPES, FormulaOptions, RollupOptions
from engine.fields.registry import computed_kind, field_type
from engine.formula import FormulaSyntaxError, check, parse

_IN_PROGRESS = object()


def derive_types(app: AppDef) -> dict[str, DerivedType]:
    """{field path: DerivedType} for every computed field of `app` (subform columns too)."""
    deriver = _Deriver(app)
    for form in app.forms:
        for fdef in form.fields:
            for column in fdef.fields:      # a subform's formula columns (read by the form's formulas)
                deriver.result_of(form, column)
            deriver.result_of(form, fdef)
    return deriver.found


class _Deriver:
    def __init__(self, app: AppDef):
        self.app = app
        self.memo: dict[str, object] = {}
        self.found: dict[str, DerivedType] = {}
        # Subform columns -> their subform: a column's formula reads its row, not the form.
        self.subforms = {column.path: fdef for form in app.forms for fdef in form.fields for column in fdef.fields}

    def result_of(self, form: FormDef, fdef: FieldDef) -> str | None:
        """The formula type of a computed field ("any" when it cannot be told yet)."""
        kind = computed_kind(fdef)
        if kind is None:
            return None
        found = self.memo.get(fdef.path)
        if found is _IN_PROGRESS:
            return "any"        # a cycle: reported by the validator
        if found is not None:
            return found
        self.memo[fdef.path] = _IN_PROGRESS
        try:
            derived = self._formula(form, fdef) if kind == "formula" else self._rollup(fdef)
        except Exception:     # a broken definition: the validator says what is wrong
            derived = None
        if derived is not None:
            self.found[fdef.path] = derived
        result = derived.result if derived is not None and derived.result else "any"
        self.memo[fdef.path] = result
        return result

    def type_of(self, form_key: str, fdef: FieldDef) -> str | None:
        form = self.app.form(form_key)
        return self.result_of(form, fdef) if form is not None else None

    def _formula(self, form: FormDef, fdef: FieldDef) -> DerivedType | None:
        options = FormulaOptions.of(fdef)
        written, text = options.result, options.text
        if written in RESULT_TYPES:
            return DerivedType(result=written)
        if not isinstance(text, str):
            return None
        try:
            formula = parse(text)
        except FormulaSyntaxError:
            return None
        subform = self.subforms.get(fdef.path)
        if subform is not None:
            env = RowEnv(subform, lambda column: self.result_of(form, column))
        else:
            env = AppEnv(self.app, form, type_of=self.type_of)
        result = check(formula, env).result_type
        return DerivedType(result=result) if result in RESULT_TYPES else None

    def _rollup(self, fdef: FieldDef) -> DerivedType | None:
        options = RollupOptions.of(fdef)
        if options.aggregate in ("count", "counta"):
            return DerivedType(result="number", precision=0)
        source = self.app.form(options.source) if isinstance(options.source, str) else None
        field_key = options.field
        target = source.field(field_key) if source is not None and isinstance(field_key, str) else None
        if target is None:
            return None
        kind = self.result_of(source, target) or field_formula_type(target)
        if options.aggregate in ("sum", "avg") or kind not in ("date", "datetime"):
            precision = self._precision(source, target)
            if options.aggregate == "avg":
                precision = max(2, precision)
            return DerivedType(result="number", precision=precision)
        return DerivedType(result=kind)

    def _precision(self, form: FormDef, fdef: FieldDef) -> int:
        """The decimal places of the numbers a field holds (0 for whole numbers)."""
        try:
            if computed_kind(fdef) is not None:
                self.result_of(form, fdef)
                ftype = field_type(fdef, self.found.get(fdef.path, DerivedType()))
            else:
                ftype = field_type(fdef)
        except Exception:
            return 2
        value = getattr(ftype, "value_type", ftype)
        places = getattr(value, "precision", None)
        return int(places) if isinstance(places, int) else 0

"""Formulas that judge or fill a record while it is saved:

- `default_formula` on a field: the value a new record starts with when none is given,
  e.g. `TODAY() + 30`; it reads the record's own fields (the others given in the same
  save) and the clock, and the current user is in its context;
- `visible_if` on a field: the field is shown when the condition is TRUE; a hidden field
  is never required, and its value is kept as it is;
- `rules` on a form: a rule whose formula gives FALSE refuses the save with its message,
  shown on the fields it names (or on the whole record). As in a spreadsheet's data
  validation, only FALSE fails: an empty or an error result (a rule reading a field
  nobody filled in) passes; write ISBLANK(...) or IFERROR(...) into a rule to be strict.

The formulas are parsed once per form and app version (compile_app keeps them) and run
with the compiled evaluator.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.computed.env import evaluation_context
from engine.computed.paths import PathFailure, ResolvedPath, resolve
from engine.definition.model import AppDef, FieldDef, FormDef, Label
from engine.errors import FieldError, FieldIssue
from engine.fields.base import FieldType, ValueContext
from engine.formula import EvalContext, FormulaSyntaxError, compile_formula, parse
from engine.formula.values import ErrorValue, to_bool
from engine.i18n import register_messages, render

register_messages({
    "rule_failed": {"zh": "{message_zh}", "en": "{message_en}"},
    "default_formula_invalid": {"zh": "默认值公式的结果不是有效的值：{reason_zh}",
                                "en": "The default formula gave a value that is not valid here: {reason_en}"},
})


@dataclass
class Rule:
    key: str
    formula: Any                    # engine.formula.Formula
    message: Label
    fields: tuple[str, ...]         # where the message is shown; () for the whole record
    paths: list[ResolvedPath]

    def issues(self) -> list[FieldIssue]:
        params = {"rule": self.key, "message_zh": self.message.zh, "message_en": self.message.en}
        return [FieldIssue(key, "rule_failed", dict(params)) for key in self.fields or ("*",)]


def fails(result: Any) -> bool:
    """Whether a rule's result refuses the record: only FALSE does (0 reads as FALSE)."""
    if result is None or type(result) is ErrorValue:
        return False
    return to_bool(result) is False


class RecordFormulas:
    """The default formulas, visibility conditions and rules of one form, parsed."""

    def __init__(self, app: AppDef, form: FormDef):
        self.defaults: dict[str, Any] = {}
        self.visibility: dict[str, Any] = {}
        for fdef in form.fields:
            if fdef.default_formula is not None:
                self._add(self.defaults, fdef.key, fdef.default_formula)
            if fdef.visible_if is not None:
                self._add(self.visibility, fdef.key, fdef.visible_if)
        self.rules = [rule for rule in (_rule(app, form, raw) for raw in form.rules) if rule is not None]
        # The own fields the defaults and conditions read.
        self.reads = {ref[0] for formula in list(self.defaults.values()) + list(self.visibility.values())
                      for ref in formula.references}

    @staticmethod
    def _add(target: dict, key: str, text: str) -> None:
        try:
            target[key] = parse(text)
        except FormulaSyntaxError:
            pass        # refused by validation; an installed app never has one

    @property
    def empty(self) -> bool:
        return not (self.defaults or self.visibility or self.rules)

    # ---- running ----------------------------------------------------------------------------
    @staticmethod
    def context(ctx: ValueContext) -> EvalContext:
        return evaluation_context(ctx)

    def _inputs(self, types: dict[str, FieldType], values: dict[str, Any], ctx: ValueContext) -> dict:
        return {key: types[key].formula_value(values.get(key), ctx) for key in self.reads if key in types}

    def default_value(self, fdef: FieldDef, ftype: FieldType, values: dict[str, Any],
                      types: dict[str, FieldType], ctx: ValueContext) -> Any:
        """The field's default from its formula, as input for the field type (None when
        the formula gives empty or an error). Raises FieldError if the type refuses it."""
        result = compile_formula(self.defaults[fdef.key])(self._inputs(types, values, ctx), self.context(ctx))
        if result is None or result == "" or type(result) is ErrorValue or isinstance(result, list):
            return None
        try:
            return ftype.clean(result, ctx)
        except FieldError as error:
            raise FieldError("default_formula_invalid", reason_zh=render(error.code, error.params, "zh"),
                             reason_en=render(error.code, error.params, "en")) from None

    def hidden(self, types: dict[str, FieldType], values: dict[str, Any], ctx: ValueContext) -> set[str]:
        """The fields whose visibility condition is not TRUE for these values."""
        if not self.visibility:
            return set()
        inputs, eval_ctx = self._inputs(types, values, ctx), self.context(ctx)
        hidden = set()
        for key, formula in self.visibility.items():
            shown = to_bool(compile_formula(formula)(inputs, eval_ctx))
            if shown is not True:
                hidden.add(key)
        return hidden


def _rule(app: AppDef, form: FormDef, raw: Any) -> Rule | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("formula"), str):
        return None
    try:
        formula = parse(raw["formula"])
    except FormulaSyntaxError:
        return None
    paths = [p for p in (resolve(app, form, ref) for ref in formula.references)
             if not isinstance(p, PathFailure)]
    fields = tuple(k for k in raw.get("fields") or () if isinstance(k, str) and form.field(k) is not None)
    message = Label.parse(raw.get("message") or raw.get("key") or "")
    return Rule(str(raw.get("key")), formula, message, fields, paths)

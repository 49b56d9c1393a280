"""Option fields: radio and select hold one option value; checkbox and multiselect
hold a list of them. Options have a stable value (stored) and a label (shown):

    options:
      - {value: vip, label: {zh: VIP, en: VIP}}
      - 普通客户            # shorthand: value and label are the same text
"""
from __future__ import annotations

from typing import Any, Iterable

import sqlalchemy as sa

from engine.definition.model import Label
from engine.errors import FieldError, Problem
from engine.fields.base import (
    CHOICE_OPS,
    DefinitionContext,
    FieldType,
    SchemaContext,
    ValueContext,
    WidgetContext,
    blank,
)
from engine.fields.multivalue import array_filter
from engine.fields.registry import register
from engine.i18n import register_messages
from engine.storage.types import JSONValue

register_messages({
    "option_unknown": {"zh": "“{value}”不是可选项之一，可选：{allowed}",
                       "en": "'{value}' is not one of the options: {allowed}"},
    "options_too_few": {"zh": "至少选择 {min} 项", "en": "Choose at least {min}"},
    "options_too_many": {"zh": "最多选择 {max} 项", "en": "Choose at most {max}"},
    "option_expected": {"zh": "请选择一个选项：填写选项的值或名称", "en": "Choose an option: give its value or label"},
})

OPTION_SCHEMA = {"type": "array", "minItems": 1, "maxItems": 1000, "items": {"anyOf": [
    {"type": "string", "minLength": 1, "maxLength": 100},
    {"type": "object", "required": ["value"], "additionalProperties": False,
     "properties": {"value": {"type": "string", "minLength": 1, "maxLength": 100},
                    "label": {"$ref": "#/$defs/label"}, "color": {"type": "string", "maxLength": 20}}}]}}
_SPLIT = str.maketrans({"，": ",", "；": ",", ";": ",", "、": ",", "|": ",", "\n": ","})


def _option_text(raw: Any) -> str:
    """One option as the user gave it: its value or label (numbers as their digits)."""
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise FieldError("option_expected")
    return str(raw)


class _Options:
    """The option list of one field, with lookups by value and by label."""

    def __init__(self, raw: list):
        self.values: list[str] = []
        self.labels: dict[str, Label] = {}
        self.colors: dict[str, str | None] = {}
        self.lookup: dict[str, str] = {}
        for item in raw or []:
            value, label = (item, Label(item, item)) if isinstance(item, str) else \
                (str(item.get("value")), Label.parse(item.get("label") or item.get("value")))
            self.values.append(value)
            self.labels[value] = label
            self.colors[value] = None if isinstance(item, str) else item.get("color")
        for value in self.values:          # values win over labels when they collide
            self.lookup.setdefault(value.lower(), value)
        for value in self.values:
            for text in (self.labels[value].zh, self.labels[value].en):
                self.lookup.setdefault(text.strip().lower(), value)

    def find(self, raw: Any) -> str:
        text = str(raw).strip()
        found = self.lookup.get(text.lower())
        if found is None:
            shown = ", ".join(self.values[:20]) + (" ..." if len(self.values) > 20 else "")
            raise FieldError("option_unknown", value=text[:50], allowed=shown)
        return found


class _ChoiceBase(FieldType):
    config_schema = {"options": OPTION_SCHEMA}
    config_required = ("options",)
    formula_type = "text"

    def __init__(self, fdef):
        super().__init__(fdef)
        self.options = _Options(fdef.option("options") or [])

    def check_definition(self, ctx: DefinitionContext) -> Iterable[Problem]:
        seen_values, seen_labels = set(), set()
        for i, value in enumerate(self.options.values):
            if value in seen_values:
                yield Problem(f"{self.fdef.path}.options[{i}]", f"option value {value!r} appears twice",
                              code="duplicate_option")
            seen_values.add(value)
            label = self.options.labels[value].zh
            if label in seen_labels:
                yield Problem(f"{self.fdef.path}.options[{i}]", f"option label {label!r} appears twice",
                              code="duplicate_option")
            seen_labels.add(label)

    def widget_options(self, ctx: WidgetContext) -> dict[str, Any]:
        return {"choices": [{"value": v, "label": self.options.labels[v].get(ctx.lang),
                             "color": self.options.colors[v]} for v in self.options.values]}

    def label_of(self, value: str, ctx: ValueContext) -> str:
        label = self.options.labels.get(value)
        return label.get(ctx.lang) if label else value

    def option_schema(self, ctx: SchemaContext) -> dict:
        """One option: its value when read; its value or a label (zh or en) when written."""
        if not ctx.writing:
            return {"enum": list(self.options.values)}
        accepted = list(self.options.values)
        for value in self.options.values:
            for text in (self.options.labels[value].zh, self.options.labels[value].en):
                if text not in accepted:
                    accepted.append(text)
        return {"enum": accepted}


class _SingleChoice(_ChoiceBase):
    can_be_unique = False
    operators = CHOICE_OPS

    def sa_type(self):
        return sa.String(100)

    def indexed(self) -> bool:
        return False

    def clean(self, raw: Any, ctx: ValueContext) -> str:
        return self.options.find(_option_text(raw))

    def json_schema(self, ctx: SchemaContext) -> dict:
        return self.option_schema(ctx)

    def display(self, value: Any, ctx: ValueContext) -> str:
        return "" if value is None else self.label_of(value, ctx)

    def export_value(self, value: Any, ctx: ValueContext) -> Any:
        return self.display(value, ctx) or None


class _MultiChoice(_ChoiceBase):
    config_schema = {"options": OPTION_SCHEMA,
                     "min_selected": {"type": "integer", "minimum": 0, "maximum": 1000},
                     "max_selected": {"type": "integer", "minimum": 1, "maximum": 1000}}
    operators = frozenset({"eq", "ne", "in", "not_in", "contains", "empty", "not_empty"})
    sortable = False
    formula_type = "array"

    def check_definition(self, ctx: DefinitionContext) -> Iterable[Problem]:
        yield from super().check_definition(ctx)
        low, high = self.fdef.option("min_selected"), self.fdef.option("max_selected")
        if low is not None and high is not None and low > high:
            yield Problem(f"{self.fdef.path}.min_selected",
                          f"min_selected {low} is greater than max_selected {high}", code="bad_range")
        if low is not None and low > len(self.options.values):
            yield Problem(f"{self.fdef.path}.min_selected",
                          f"min_selected {low} is more than the {len(self.options.values)} options there are",
                          code="bad_range")

    def sa_type(self):
        return JSONValue

    def clean(self, raw: Any, ctx: ValueContext) -> list[str]:
        items = raw if isinstance(raw, (list, tuple)) else \
            [p for p in _option_text(raw).translate(_SPLIT).split(",") if p.strip()]
        chosen: list[str] = []
        for item in items:
            value = self.options.find(_option_text(item))
            if value not in chosen:
                chosen.append(value)
        chosen.sort(key=self.options.values.index)    # keep the definition's order
        low, high = self.fdef.option("min_selected"), self.fdef.option("max_selected")
        if low and len(chosen) < low:
            raise FieldError("options_too_few", min=low)
        if high and len(chosen) > high:
            raise FieldError("options_too_many", max=high)
        return chosen

    def is_empty(self, value: Any) -> bool:
        return blank(value)   # an object is not "no options" but a mistake: clean() says so

    def json_schema(self, ctx: SchemaContext) -> dict:
        """The chosen values in the definition's order; written, also labels, or one text
        with the options separated by commas."""
        schema = {"type": "array", "items": self.option_schema(ctx), "uniqueItems": not ctx.writing}
        if ctx.writing:
            schema["type"] = ["array", "string"]
        high = self.fdef.option("max_selected")
        return {**schema, "maxItems": high} if high and not ctx.writing else schema

    def widget_options(self, ctx: WidgetContext) -> dict[str, Any]:
        return {**super().widget_options(ctx), "min_selected": self.fdef.option("min_selected"),
                "max_selected": self.fdef.option("max_selected")}

    def display(self, value: Any, ctx: ValueContext) -> str:
        return "、".join(self.label_of(v, ctx) for v in value or [])

    def export_value(self, value: Any, ctx: ValueContext) -> Any:
        return self.display(value, ctx) or None

    def filter_clause(self, table, op, operand, ctx):
        self.check_operator(op)
        values = []
        if op not in ("empty", "not_empty"):
            items = operand if isinstance(operand, (list, tuple)) else [operand]
            values = [self.options.find(v) for v in items]
        return array_filter(table.c[self.column_name], op, values)


@register
class RadioField(_SingleChoice):
    name = "radio"
    label = Label("单选按钮组", "Radio")
    widget_kind = "radio"


@register
class SelectField(_SingleChoice):
    name = "select"
    label = Label("下拉框", "Select")
    widget_kind = "select"


@register
class CheckboxField(_MultiChoice):
    name = "checkbox"
    label = Label("复选框组", "Checkboxes")
    widget_kind = "checkbox"


@register
class MultiselectField(_MultiChoice):
    name = "multiselect"
    label = Label("下拉复选框", "Multi-select")
    widget_kind = "multiselect"

"""Small value types: switch (yes/no) and rating (1..max stars)."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from engine.definition.model import Label
from engine.errors import FieldError
from engine.fields.base import ORDERED_OPS, FieldType, SchemaContext, ValueContext, WidgetContext, blank
from engine.fields.registry import register
from engine.i18n import register_messages

register_messages({
    "switch_invalid": {"zh": "“{value}”不是“是/否”", "en": "'{value}' is not yes or no"},
    "rating_invalid": {"zh": "评分应为 1 到 {max} 的整数", "en": "A rating is a whole number from 1 to {max}"},
})

TRUE_TEXT = {"是", "true", "1", "yes", "y", "开", "√", "✓", "对", "on", "t"}
FALSE_TEXT = {"否", "false", "0", "no", "n", "关", "×", "✗", "错", "off", "f"}
_STARS = "★*☆"   # filled stars, then the empty one


@register
class SwitchField(FieldType):
    name = "switch"
    label = Label("开关", "Switch")
    operators = frozenset({"eq", "ne", "empty", "not_empty"})
    formula_type = "boolean"
    widget_kind = "switch"

    def sa_type(self):
        return sa.Boolean()

    def clean(self, raw: Any, ctx: ValueContext) -> bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, (int, float)) and raw in (0, 1):
            return bool(raw)
        text = str(raw).strip().lower()
        if text in TRUE_TEXT:
            return True
        if text in FALSE_TEXT:
            return False
        raise FieldError("switch_invalid", value=str(raw)[:50])

    def display(self, value: Any, ctx: ValueContext) -> str:
        if value is None:
            return ""
        return ("是" if value else "否") if ctx.lang == "zh" else ("Yes" if value else "No")

    def json_schema(self, ctx: SchemaContext) -> dict:
        if not ctx.writing:
            return {"type": "boolean"}
        return {"anyOf": [{"type": "boolean"}, {"enum": [0, 1]},
                          {"type": "string", "maxLength": 10, "examples": ["是", "否", "yes", "no"]}]}

    def export_value(self, value: Any, ctx: ValueContext) -> Any:
        # Chinese spreadsheets say 是/否; TRUE/FALSE cells confuse WPS users.
        return None if value is None else self.display(value, ctx)


@register
class RatingField(FieldType):
    name = "rating"
    label = Label("评分", "Rating")
    config_schema = {"max": {"type": "integer", "minimum": 1, "maximum": 10}}
    operators = ORDERED_OPS
    formula_type = "number"
    widget_kind = "rating"

    def __init__(self, fdef):
        super().__init__(fdef)
        self.max = int(fdef.option("max", 5))

    def sa_type(self):
        return sa.SmallInteger()

    def widget_options(self, ctx: WidgetContext) -> dict[str, Any]:
        return {"max": self.max}

    def clean(self, raw: Any, ctx: ValueContext) -> int | None:
        if isinstance(raw, bool):
            raise FieldError("rating_invalid", max=self.max)
        text = str(raw).strip()
        if text and set(text) <= set(_STARS):   # "★★★☆☆", as display() writes it, or "***"
            text = str(sum(text.count(star) for star in _STARS[:2]))
        try:
            value = float(text)
        except ValueError:
            raise FieldError("rating_invalid", max=self.max) from None
        if not value.is_integer() or not 1 <= value <= self.max:
            raise FieldError("rating_invalid", max=self.max)
        return int(value)

    def is_empty(self, value: Any) -> bool:
        return blank(value) or (not isinstance(value, bool) and value in (0, "0"))   # 0 stars: none

    def convert_from(self, old: FieldType, value: Any, ctx: ValueContext) -> Any:
        if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
            return self.clean(value, ctx)   # a number keeps its value, whatever its unit
        return super().convert_from(old, value, ctx)

    def display(self, value: Any, ctx: ValueContext) -> str:
        return "" if not value else "★" * value + "☆" * (self.max - value)

    def json_schema(self, ctx: SchemaContext) -> dict:
        stars = {"type": "integer", "minimum": 1, "maximum": self.max}
        if not ctx.writing:
            return stars
        # 0 stars is no rating; "★★★☆☆" as display() writes it
        return {"anyOf": [{**stars, "minimum": 0}, {"type": "string", "maxLength": 20}]}

    def export_value(self, value: Any, ctx: ValueContext) -> Any:
        return value

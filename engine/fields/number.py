"""Number: exact Decimal with a fixed number of decimal places, min/max and a unit."""
from __future__ import annotations

import re
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Iterable

from engine.definition.model import Label
from engine.errors import FieldError, Problem
from engine.fields.base import (
    DECIMAL_TEXT,
    NO_MATCH,
    ORDERED_OPS,
    DefinitionContext,
    FieldType,
    SchemaContext,
    ValueContext,
    WidgetContext,
)
from engine.fields.registry import register
from engine.i18n import register_messages
from engine.storage.types import ExactDecimal

# Digits in all, decimal places included. SQLite keeps a number as an integer scaled
# by its decimal places (see ExactDecimal), and 18 digits always fit in its 64 bits,
# so both databases accept exactly the same numbers.
MAX_DIGITS = 18
MAX_PRECISION = 10   # decimal places

register_messages({
    "number_invalid": {"zh": "“{value}”不是有效的数字", "en": "'{value}' is not a number"},
    "number_too_small": {"zh": "不能小于 {min}", "en": "Must be at least {min}"},
    "number_too_large": {"zh": "不能大于 {max}", "en": "Must be at most {max}"},
    "number_too_many_digits": {"zh": "数字位数过多：整数和小数合计最多 {digits} 位",
                               "en": "Too many digits: at most {digits} in all, decimal places included"},
})

# Units that make a number an amount of money: its widget is a money input.
CURRENCY_UNITS = frozenset({"元", "万元", "¥", "￥", "CNY", "RMB", "$", "USD", "美元", "€", "EUR", "HK$", "港元"})

_PLAIN = re.compile(r"^-?\d{1,30}(\.\d{1,30})?$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_SPACED_THOUSANDS = re.compile(r"^[+-]?\d{1,3}([ \u00a0]\d{3})+(\.\d+)?%?$")


def parse_decimal(raw: Any) -> Decimal:
    """Decimal from an int, a Decimal, a float (via its shortest repr) or text.

    Text may carry thousands separators ("1,234.5"), full-width digits, a leading
    currency sign (¥ ￥ $) or a trailing percent sign ("12%" -> 0.12).
    """
    if isinstance(raw, bool):
        raise FieldError("number_invalid", value=str(raw))
    if isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, int):
        value = Decimal(raw)
    elif isinstance(raw, float):
        value = Decimal(repr(raw))
    elif isinstance(raw, str) and _PLAIN.match(raw):   # "1234.50": most cells of an import
        value = Decimal(raw)
    elif isinstance(raw, str):
        text = raw.strip().translate(_FULLWIDTH).lstrip("¥￥$").strip()
        if _SPACED_THOUSANDS.match(text):   # "1 234 567", as some spreadsheets write it
            text = text.replace(" ", "").replace("\u00a0", "")
        percent = text.endswith("%")
        if percent:
            text = text[:-1].rstrip()
        if _THOUSANDS.match(text):
            text = text.replace(",", "")
        if len(text) > 64 or not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?", text):
            raise FieldError("number_invalid", value=raw[:50])
        value = Decimal(text)
        if percent:
            value = value / 100
    else:
        raise FieldError("number_invalid", value=str(raw)[:50])
    if not value.is_finite():
        raise FieldError("number_invalid", value=str(raw)[:50])
    return value


_FULLWIDTH = str.maketrans("０１２３４５６７８９．，－＋", "0123456789.,-+")
# Rounding of a filter operand that keeps the operator's meaning on rounded values:
# with 2 places, "> 0.005" is "> 0.00" and ">= 0.005" is ">= 0.01".
_ROUND_TOWARDS = {"gt": ROUND_FLOOR, "lte": ROUND_FLOOR, "gte": ROUND_CEILING, "lt": ROUND_CEILING}


@register
class NumberField(FieldType):
    name = "number"
    label = Label("数字", "Number")
    config_schema = {
        "precision": {"type": "integer", "minimum": 0, "maximum": MAX_PRECISION},
        "min": {"type": "number"},
        "max": {"type": "number"},
        "unit": {"type": "string", "maxLength": 20},
        "thousands": {"type": "boolean"},
        "percent": {"type": "boolean"},
    }
    can_be_unique = True
    operators = ORDERED_OPS
    can_match = True
    formula_type = "number"
    python_type_name = "number"
    widget_kind = "number"   # "money" or "percent" by its options (widget_options)

    def __init__(self, fdef):
        super().__init__(fdef)
        self.precision = int(fdef.option("precision", 2))
        self.quantum = Decimal(1).scaleb(-self.precision)
        low, high = fdef.option("min"), fdef.option("max")
        self.low = None if low is None else Decimal(str(low))
        self.high = None if high is None else Decimal(str(high))

    def check_definition(self, ctx: DefinitionContext) -> Iterable[Problem]:
        low, high = self.fdef.option("min"), self.fdef.option("max")
        if low is not None and high is not None and low > high:
            yield Problem(f"{self.fdef.path}.min", f"min {low} is greater than max {high}",
                          code="bad_range")

    def sa_type(self):
        return ExactDecimal(scale=self.precision)

    def indexed(self) -> bool:
        return True

    def quantize(self, value: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
        """`value` rounded to the field's decimal places; refused when it has more
        digits than can be stored."""
        try:
            rounded = value.quantize(self.quantum, rounding=rounding)
        except InvalidOperation:   # more digits than the decimal context holds
            raise FieldError("number_too_many_digits", digits=MAX_DIGITS) from None
        if len(rounded.as_tuple().digits) > MAX_DIGITS:
            raise FieldError("number_too_many_digits", digits=MAX_DIGITS)
        return rounded.copy_abs() if rounded.is_zero() else rounded   # no "-0.00"

    def clean(self, raw: Any, ctx: ValueContext) -> Decimal:
        value = self.quantize(parse_decimal(raw))
        if self.low is not None and value < self.low:
            raise FieldError("number_too_small", min=self.fdef.option("min"))
        if self.high is not None and value > self.high:
            raise FieldError("number_too_large", max=self.fdef.option("max"))
        return value

    def clean_operand(self, operand: Any, ctx: ValueContext) -> Decimal:
        value = parse_decimal(operand)
        self.quantize(value)   # refuses operands too large to compare with a stored value
        return value           # exact: `comparable` rounds it for the operator

    def comparable(self, op: str, value: Any) -> Any:
        rounded = self.quantize(value, _ROUND_TOWARDS.get(op, ROUND_HALF_UP))
        if op in _ROUND_TOWARDS or rounded == value:
            return rounded
        return NO_MATCH

    def to_json(self, value: Any) -> Any:
        return None if value is None else str(value)

    def json_schema(self, ctx: SchemaContext) -> dict:
        """A decimal as text ("1234.50", exact, with the field's decimal places) when read;
        a JSON number or such text (also "1,234.5", "¥12", "12%") when written."""
        if not ctx.writing:
            return dict(DECIMAL_TEXT)
        bounds = {k: float(v) for k, v in (("minimum", self.low), ("maximum", self.high)) if v is not None}
        return {"type": ["number", "string"], "maxLength": 64, **bounds}

    def widget(self, ctx: WidgetContext) -> dict[str, Any]:
        described = super().widget(ctx)
        unit = self.fdef.option("unit")
        if self.fdef.option("percent"):
            described["kind"] = "percent"
        elif unit in CURRENCY_UNITS:
            described["kind"] = "money"
        return described

    def widget_options(self, ctx: WidgetContext) -> dict[str, Any]:
        unit = self.fdef.option("unit")
        return {"precision": self.precision, "min": self.fdef.option("min"), "max": self.fdef.option("max"),
                "unit": unit, "currency": unit if unit in CURRENCY_UNITS else None,
                "thousands": bool(self.fdef.option("thousands")), "percent": bool(self.fdef.option("percent"))}

    def export_value(self, value: Any, ctx: ValueContext) -> Any:
        return value  # openpyxl writes Decimal as a number

    def display(self, value: Any, ctx: ValueContext) -> str:
        """"1,234.50 元" with `thousands` and `unit`; "12.5%" for 0.125 with `percent`
        (the percentage keeps the decimal places the stored value has beyond two)."""
        if value is None:
            return ""
        if self.fdef.option("percent"):
            value = (value * 100).quantize(Decimal(1).scaleb(-max(self.precision - 2, 0)))
        text = f"{value:,}" if self.fdef.option("thousands") else str(value)
        if self.fdef.option("percent"):
            text += "%"
        unit = self.fdef.option("unit")
        return f"{text} {unit}" if unit else text

    def convert_from(self, old: FieldType, value: Any, ctx: ValueContext) -> Any:
        if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
            return self.clean(value, ctx)   # a number (or rating) keeps its value, not its display
        return super().convert_from(old, value, ctx)

    def parse_text(self, text: str, ctx: ValueContext) -> Any:
        unit = self.fdef.option("unit")
        text = text.strip()
        if unit and text.endswith(unit):
            text = text[: -len(unit)].strip()
        return self.clean(text, ctx)

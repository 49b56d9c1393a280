"""Computed fields: formula (a formula over the record and its related data) and
rollup (an aggregate over the records of another form that point at this one).

Both are stored in a typed column of their result type, so they filter, sort and
aggregate in SQL like any field; the engine keeps them current on every write
(engine/upkeep/upkeep.py) and users cannot type into them. Their column, display,
JSON and filter operators are those of the plain field type of their result (a number
formula filters like a number field), held as `value_type`.

A formula field may also be a column of a subform: it then reads the columns of its row
and is computed for each row as the rows are cleaned (engine/computed/row_formulas.py).

A formula whose value is an error (#DIV/0!...) stores NULL in its column, so filters,
sorts and sums treat it as empty, and the error code in a second column
(`<key>__error`), so the record still shows "#DIV/0!" and formulas reading the field
get the error back, as in a spreadsheet.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from engine.definition.model import FieldDef, Label
from engine.errors import FieldError
from engine.fields.base import DEFAULT_TZ, DerivedType, FieldType, SchemaContext, ValueContext, WidgetContext
from engine.fields.number import MAX_PRECISION
from engine.fields.registry import field_type, register
from engine.fields.results import to_result_type
from engine.fields.text import MAX_TEXT
from engine.formula.values import NUM, ErrorValue
from engine.i18n import register_messages

RESULT_TYPES = ("number", "text", "date", "datetime", "boolean")
AGGREGATES = ("sum", "count", "counta", "avg", "min", "max")
ERROR_SUFFIX = "__error"
DEFAULT_RESULT = "text"     # the column of a formula whose type is not known (an invalid definition)

register_messages({
    "computed_read_only": {"zh": "该字段由公式自动计算，不能填写",
                           "en": "This field is computed by the app; it cannot be set"},
})

# Display options shared with the plain field types a computed value is shown as.
_NUMBER_OPTIONS = {
    "precision": {"type": "integer", "minimum": 0, "maximum": MAX_PRECISION},
    "unit": {"type": "string", "maxLength": 20},
    "thousands": {"type": "boolean"},
    "percent": {"type": "boolean"},
}
_DATE_FORMAT = {"format": {"type": "string", "maxLength": 40}}


def value_type(fdef: FieldDef, kind: str, precision: int | None) -> FieldType:
    """The plain field type that stores and shows a computed value of type `kind`."""
    options = {k: v for k, v in fdef.config.items() if k in ("unit", "thousands", "percent", "format")}
    if kind == "number":
        config = {"precision": 2 if precision is None else precision,
                  **{k: v for k, v in options.items() if k != "format"}}
        type_name = "number"
    elif kind in ("date", "datetime"):
        config, type_name = {k: v for k, v in options.items() if k == "format"}, kind
    elif kind == "boolean":
        config, type_name = {}, "switch"
    else:
        config, type_name = {"max_length": MAX_TEXT}, "text"
    return field_type(FieldDef(key=fdef.key, type=type_name, label=fdef.label, path=fdef.path,
                               config=config))


class ComputedField(FieldType):
    """What formula and rollup fields share: a stored value nobody types in."""

    computed = True
    can_have_default = False
    allowed_in_subform = False
    needs_derived = True
    value_type: FieldType

    def _adopt(self, value: FieldType) -> None:
        self.value_type = value
        self.operators = value.operators
        self.sortable = value.sortable
        self.searchable = value.searchable

    def sa_type(self):
        return self.value_type.sa_type()

    def widget_options(self, ctx: WidgetContext) -> dict[str, Any]:
        """Read-only: the result type and how its value is shown (computed by the engine,
        live on a form page through runtime/forms)."""
        return {"result": self.result, "precision": getattr(self.value_type, "precision", None),
                "unit": self.fdef.option("unit"), "percent": bool(self.fdef.option("percent")),
                "format": self.fdef.option("format")}

    def indexed(self) -> bool:
        return self.value_type.indexed()

    def clean(self, raw: Any, ctx: ValueContext) -> Any:
        raise FieldError("computed_read_only")

    def parse_text(self, text: str, ctx: ValueContext) -> Any:
        raise FieldError("computed_read_only")

    def convert_from(self, old: FieldType, value: Any, ctx: ValueContext) -> Any:
        return None     # computed again by the migration's recompute step

    def to_json(self, value: Any) -> Any:
        return self.value_type.to_json(value)

    def json_schema(self, ctx: SchemaContext) -> dict:
        return self.value_type.json_schema(SchemaContext("read", ctx.lang))   # never written

    def export_value(self, value: Any, ctx: ValueContext) -> Any:
        return self.value_type.export_value(value, ctx)

    def display(self, value: Any, ctx: ValueContext) -> str:
        return self.value_type.display(value, ctx)

    def sort_expression(self, table: sa.Table) -> sa.ColumnElement:
        return self.value_type.sort_expression(table)

    def search_clause(self, table: sa.Table, needle: str):
        return self.value_type.search_clause(table, needle)

    def filter_clause(self, table: sa.Table, op: str, operand: Any, ctx: ValueContext):
        self.check_operator(op)
        return self.value_type.filter_clause(table, op, operand, ctx)

    def clean_operand(self, operand: Any, ctx: ValueContext) -> Any:
        return self.value_type.clean_operand(operand, ctx)

    def comparable(self, op: str, value: Any) -> Any:
        return self.value_type.comparable(op, value)

    def range_bound(self, day, ctx: ValueContext) -> Any:
        return self.value_type.range_bound(day, ctx)


@dataclass(frozen=True)
class FormulaOptions:
    """A formula field's (or subform column's) formula and written result type, as
    written: what derives the app's result types, before any type is bound."""

    text: Any
    result: Any

    @classmethod
    def of(cls, fdef: FieldDef) -> "FormulaOptions":
        return cls(fdef.option("formula"), fdef.option("result"))


@dataclass(frozen=True)
class RollupOptions:
    """What a rollup adds up, as written: the source form, the relation on it that
    points here, the aggregate, the field and the filter."""

    source: Any
    via: Any
    aggregate: Any
    field: Any
    filter: Any

    @classmethod
    def of(cls, fdef: FieldDef) -> "RollupOptions":
        return cls(fdef.option("source"), fdef.option("via"), fdef.option("aggregate"),
                   fdef.option("field"), fdef.option("filter"))


# The settings of a computed field that change its values (labels and display do not).
_VALUE_SETTINGS = ("formula", "result", "precision", "source", "via", "aggregate", "field", "filter")


def value_settings(fdef: FieldDef) -> tuple:
    """What decides a formula's or rollup's values, as written: a change to any of them
    recomputes the field (an upgrade plan compares them)."""
    return tuple(fdef.option(key) for key in _VALUE_SETTINGS)


@register
class FormulaField(ComputedField):
    name = "formula"
    computed_kind = "formula"
    widget_kind = "formula"
    label = Label("公式", "Formula")
    config_schema = {
        "formula": {"type": "string", "minLength": 1, "maxLength": 10000},
        "result": {"enum": list(RESULT_TYPES)},
        **_NUMBER_OPTIONS,
        **_DATE_FORMAT,
    }
    config_required = ("formula",)
    allowed_in_subform = True   # a row formula: reads the columns of its row (engine/computed/row_formulas.py)

    def __init__(self, fdef: FieldDef, derived: DerivedType):
        super().__init__(fdef)
        options = FormulaOptions.of(fdef)
        self.formula_text: str = options.text or ""
        # Written in the definition, or inferred from the formula over the whole app
        # (engine/computed/derive.py), which a field type alone cannot see.
        self.written_result: str | None = options.result
        self.inferred_result: str | None = derived.result
        self.result: str = self.written_result or derived.result or DEFAULT_RESULT
        self.formula_type = self.result
        self.precision = fdef.option("precision")
        self.error_column = f"{self.key}{ERROR_SUFFIX}"
        self._adopt(value_type(fdef, self.result, self.precision))

    def columns(self) -> list[sa.Column]:
        return [sa.Column(self.column_name, self.sa_type(), nullable=True),
                sa.Column(self.error_column, sa.String(10), nullable=True)]

    def to_row(self, value: Any) -> dict[str, Any]:
        if type(value) is ErrorValue:
            return {self.column_name: None, self.error_column: value.code}
        return {self.column_name: value, self.error_column: None}

    def from_row(self, row) -> Any:
        code = row.get(self.error_column)
        if code:
            return ErrorValue(code)
        return row.get(self.column_name)

    def to_json(self, value: Any) -> Any:
        return str(value) if _is_error(value) else self.value_type.to_json(value)

    def json_schema(self, ctx: SchemaContext) -> dict:
        """The result, or the spreadsheet error the formula gave (#DIV/0!, #VALUE!...)."""
        return {"anyOf": [super().json_schema(ctx), FORMULA_ERROR_SCHEMA]}

    def export_value(self, value: Any, ctx: ValueContext) -> Any:
        return str(value) if _is_error(value) else self.value_type.export_value(value, ctx)

    def display(self, value: Any, ctx: ValueContext) -> str:
        return str(value) if _is_error(value) else self.value_type.display(value, ctx)

    def is_empty(self, value: Any) -> bool:
        return _is_error(value) or super().is_empty(value)

    def stored_value(self, result: Any, tz: ZoneInfo = DEFAULT_TZ) -> Any:
        """A formula's result as this field stores it: converted to the result type and
        rounded to its precision; an error (or a value that cannot be converted) stays
        an error value."""
        value = to_result_type(result, self.result, tz)
        if self.result == "number" and type(value) is Decimal:
            try:
                return self.value_type.quantize(value)
            except FieldError:
                return NUM
        return value


@register
class RollupField(ComputedField):
    name = "rollup"
    computed_kind = "rollup"
    widget_kind = "rollup"
    label = Label("汇总", "Rollup")
    config_schema = {
        "source": {"type": "string"},
        "via": {"type": "string"},
        "aggregate": {"enum": list(AGGREGATES)},
        "field": {"type": "string"},
        "filter": {"type": ["object", "array"]},
        **_NUMBER_OPTIONS,
        **_DATE_FORMAT,
    }
    config_required = ("source", "via", "aggregate")

    def __init__(self, fdef: FieldDef, derived: DerivedType):
        super().__init__(fdef)
        options = RollupOptions.of(fdef)
        self.source: str = options.source
        self.via: str = options.via
        self.aggregate: str = options.aggregate
        self.field_key: str | None = options.field
        self.filter = options.filter
        self.result: str = derived.result or "number"
        self.formula_type = self.result
        if self.aggregate in ("count", "counta"):
            self.precision = 0
        else:
            self.precision = fdef.option("precision", derived.precision)
        self._adopt(value_type(fdef, self.result, self.precision))

    @property
    def empty_value(self) -> Any:
        """The value over no records at all: counts and sums are 0, the others empty."""
        return Decimal(0) if self.aggregate in ("sum", "count", "counta") else None


FORMULA_ERROR_SCHEMA = {"type": "string", "enum": sorted(str(e) for e in (
    ErrorValue.DIV0, ErrorValue.VALUE, ErrorValue.NA, ErrorValue.NUM, ErrorValue.NAME, ErrorValue.REF,
    ErrorValue.NULL))}


def _is_error(value: Any) -> bool:
    return type(value) is ErrorValue

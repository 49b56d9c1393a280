"""Location: a point (longitude, latitude) with an optional place name. Text import
reads "经度,纬度" (lng,lat) optionally followed by a name."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa

from engine.definition.model import Label
from engine.errors import FieldError
from engine.fields.base import DECIMAL_TEXT, FieldType, SchemaContext, ValueContext, WidgetContext
from engine.fields.registry import register
from engine.fields.text import check_text_content
from engine.i18n import register_messages
from engine.storage.types import ExactDecimal

register_messages({
    "location_invalid": {"zh": "定位应为“经度,纬度”，经度 -180~180，纬度 -90~90",
                         "en": "A location is 'longitude,latitude' with longitude -180..180 and latitude -90..90"},
    "location_name_too_long": {"zh": "地点名称过长：最多 {max} 个字符，当前 {length} 个",
                               "en": "The place name is too long: at most {max} characters, got {length}"},
})
_Q = Decimal("0.000001")   # about 0.1 m
MAX_NAME = 200


@register
class LocationField(FieldType):
    name = "location"
    label = Label("定位", "Location")
    widget_kind = "location"
    operators = frozenset({"empty", "not_empty"})
    sortable = False
    can_have_default = False

    def widget_options(self, ctx: WidgetContext) -> dict[str, Any]:
        return {"max_name_length": MAX_NAME}

    def col(self, part: str) -> str:
        return f"{self.key}__{part}"

    def columns(self) -> list[sa.Column]:
        return [sa.Column(self.col("lng"), ExactDecimal(scale=6), nullable=True),
                sa.Column(self.col("lat"), ExactDecimal(scale=6), nullable=True),
                sa.Column(self.col("name"), sa.String(MAX_NAME), nullable=True)]

    def to_row(self, value: Any) -> dict[str, Any]:
        value = value or {}
        return {self.col("lng"): value.get("lng"), self.col("lat"): value.get("lat"),
                self.col("name"): value.get("name")}

    def from_row(self, row) -> Any:
        lng, lat = row.get(self.col("lng")), row.get(self.col("lat"))
        if lng is None or lat is None:
            return None
        return {"lng": lng, "lat": lat, "name": row.get(self.col("name"))}

    def sort_expression(self, table):
        return table.c[self.col("lng")]

    def clean(self, raw: Any, ctx: ValueContext) -> dict[str, Any]:
        if isinstance(raw, str):
            return self.parse_text(raw, ctx)
        if not isinstance(raw, dict):
            raise FieldError("location_invalid")
        lng, lat = _coordinate(raw.get("lng"), 180), _coordinate(raw.get("lat"), 90)
        return {"lng": lng, "lat": lat, "name": _place_name(raw.get("name"))}

    def parse_text(self, text: str, ctx: ValueContext) -> dict[str, Any]:
        m = re.match(r"^\s*(-?\d+(?:\.\d+)?)\s*[,，]\s*(-?\d+(?:\.\d+)?)\s*(?:[,，\s]\s*(.+))?$", text)
        if not m:
            raise FieldError("location_invalid")
        return self.clean({"lng": m.group(1), "lat": m.group(2), "name": m.group(3)}, ctx)

    def filter_clause(self, table, op, operand, ctx):
        self.check_operator(op)
        stored = table.c[self.col("lng")].is_not(None)
        return stored if op == "not_empty" else ~stored

    def to_json(self, value: Any) -> Any:
        if value is None:
            return None
        return {"lng": str(value["lng"]), "lat": str(value["lat"]), "name": value.get("name")}

    def json_schema(self, ctx: SchemaContext) -> dict:
        """Longitude and latitude in degrees (six places, as decimal text when read) and
        the place's name; written, also "113.93,22.53 name" as one text."""
        name = {"type": ["string", "null"], "maxLength": MAX_NAME}
        if not ctx.writing:
            return {"type": "object", "properties": {"lng": DECIMAL_TEXT, "lat": DECIMAL_TEXT, "name": name},
                    "required": ["lng", "lat", "name"], "additionalProperties": False}
        return {"type": ["object", "string"], "required": ["lng", "lat"], "maxLength": 300, "properties": {
            "lng": {"type": ["number", "string"], "minimum": -180, "maximum": 180},
            "lat": {"type": ["number", "string"], "minimum": -90, "maximum": 90}, "name": name}}

    def display(self, value: Any, ctx: ValueContext) -> str:
        if not value:
            return ""
        point = f"{value['lng']},{value['lat']}"
        return f"{point} {value['name']}" if value.get("name") else point

    def export_value(self, value: Any, ctx: ValueContext) -> Any:
        return self.display(value, ctx) or None


def _coordinate(raw: Any, limit: int) -> Decimal:
    """A longitude (limit 180) or latitude (limit 90) in degrees, to six places."""
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float, Decimal)):
        raise FieldError("location_invalid")
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise FieldError("location_invalid") from None
    if not value.is_finite() or not -limit <= value <= limit:
        raise FieldError("location_invalid")
    return value.quantize(_Q)


def _place_name(raw: Any) -> str | None:
    if raw is None:
        return None
    name = check_text_content(str(raw).strip())
    if len(name) > MAX_NAME:
        raise FieldError("location_name_too_long", max=MAX_NAME, length=len(name))
    return name or None

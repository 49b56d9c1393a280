"""Location: a point (longitude, latitude) with an optional place name. Text import
reads "经度,纬度" (lng,lat) optionally followed by a name."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa

from engine.definition.model import Label
from engine.errors import FieldError
from engine.fields.base import FieldType, ValueContext
from engine.fields.registry import register
from engine.i18n import register_messages
from engine.storage.types import ExactDecimal

register_messages({
    "location_invalid": {"zh": "定位应为“经度,纬度”，经度 -180~180，纬度 -90~90",
                         "en": "A location is 'longitude,latitude' with longitude -180..180 and latitude -90..90"},
})
_Q = Decimal("0.000001")


@register
class LocationField(FieldType):
    name = "location"
    label = Label("定位", "Location")
    operators = frozenset({"empty", "not_empty"})
    sortable = False
    can_have_default = False

    def col(self, part: str) -> str:
        return f"{self.key}__{part}"

    def columns(self) -> list[sa.Column]:
        return [sa.Column(self.col("lng"), ExactDecimal(scale=6), nullable=True),
                sa.Column(self.col("lat"), ExactDecimal(scale=6), nullable=True),
                sa.Column(self.col("name"), sa.String(200), nullable=True)]

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
        try:
            lng = Decimal(str(raw.get("lng"))).quantize(_Q)
            lat = Decimal(str(raw.get("lat"))).quantize(_Q)
        except (InvalidOperation, ValueError):
            raise FieldError("location_invalid") from None
        if not (-180 <= lng <= 180 and -90 <= lat <= 90):
            raise FieldError("location_invalid")
        name = raw.get("name")
        return {"lng": lng, "lat": lat, "name": str(name).strip()[:200] if name else None}

    def parse_text(self, text: str, ctx: ValueContext) -> dict[str, Any]:
        m = re.match(r"^\s*(-?\d+(?:\.\d+)?)\s*[,，]\s*(-?\d+(?:\.\d+)?)\s*(?:[,，\s]\s*(.+))?$", text)
        if not m:
            raise FieldError("location_invalid")
        return self.clean({"lng": m.group(1), "lat": m.group(2), "name": m.group(3)}, ctx)

    def to_json(self, value: Any) -> Any:
        if value is None:
            return None
        return {"lng": str(value["lng"]), "lat": str(value["lat"]), "name": value.get("name")}

    def display(self, value: Any, ctx: ValueContext) -> str:
        if not value:
            return ""
        point = f"{value['lng']},{value['lat']}"
        return f"{point} {value['name']}" if value.get("name") else point

    def export_value(self, value: Any, ctx: ValueContext) -> Any:
        return self.display(value, ctx) or None

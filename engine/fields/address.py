"""Address: province / city / district checked against the official division list,
plus a free-text street address. Stored in four columns so lists can be filtered
and grouped by province or city.

Value: {"province": "广东省", "city": "深圳市", "district": "南山区", "detail": "科技园 1 号"}.
Input may use codes (440305) or short names (广东 深圳 南山) where unambiguous;
import text "广东省深圳市南山区科技园1号" is split into its parts.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from engine.definition.model import Label
from engine.errors import FieldError
from engine.fields.base import FieldType, ValueContext
from engine.fields.divisions import Division, divisions, short_name
from engine.fields.registry import register
from engine.i18n import register_messages

PARTS = ("province", "city", "district", "detail")
LEVELS = ("province", "city", "district")

register_messages({
    "address_invalid": {"zh": "地址应包含省、市、区", "en": "An address needs a province, city and district"},
    "address_unknown": {"zh": "找不到{level}“{value}”{where}", "en": "Unknown {level} '{value}'{where}"},
    "address_missing": {"zh": "请填写{level}", "en": "The {level} is missing"},
})
_LEVEL_ZH = {"province": "省份", "city": "城市", "district": "区县"}


@register
class AddressField(FieldType):
    name = "address"
    label = Label("地址", "Address")
    config_schema = {"level": {"enum": list(LEVELS)}, "detail": {"type": "boolean"}}
    operators = frozenset({"eq", "ne", "in", "contains", "empty", "not_empty"})
    searchable = True
    formula_type = "text"

    def __init__(self, fdef):
        super().__init__(fdef)
        self.level = fdef.option("level", "district")
        self.with_detail = fdef.option("detail", True)

    def col(self, part: str) -> str:
        return f"{self.key}__{part}"

    def columns(self) -> list[sa.Column]:
        return [sa.Column(self.col(p), sa.String(500 if p == "detail" else 50), nullable=True) for p in PARTS]

    def to_row(self, value: Any) -> dict[str, Any]:
        value = value or {}
        return {self.col(p): value.get(p) for p in PARTS}

    def from_row(self, row) -> Any:
        value = {p: row.get(self.col(p)) for p in PARTS}
        return value if any(value.values()) else None

    def sort_expression(self, table):
        return table.c[self.col("province")]

    def is_empty(self, value: Any) -> bool:
        return not value or not any(v for v in (value.values() if isinstance(value, dict) else [value]))

    def _problem(self, level: str, value: str, where: str, ctx: ValueContext) -> FieldError:
        label = _LEVEL_ZH[level] if ctx.lang == "zh" else level
        return FieldError("address_unknown", level=label, value=str(value)[:30], where=where)

    def clean(self, raw: Any, ctx: ValueContext) -> dict[str, Any]:
        if isinstance(raw, str):
            return self.parse_text(raw, ctx)
        if not isinstance(raw, dict):
            raise FieldError("address_invalid")
        data = divisions()
        wanted = LEVELS[: LEVELS.index(self.level) + 1]
        result: dict[str, Any] = {p: None for p in PARTS}
        pool = data.provinces
        parent_name = ""
        for level in wanted:
            text = raw.get(level)
            if text in (None, ""):
                raise FieldError("address_missing", level=_LEVEL_ZH[level] if ctx.lang == "zh" else level)
            found = data.find_child(pool, str(text))
            if found is None and level == "city" and raw.get("province") and \
                    str(text).strip() in (result["province"], short_name(result["province"] or "")):
                found = data.find_child(pool, result["province"])
            if found is None:
                raise self._problem(level, text, f"（{parent_name}）" if parent_name and ctx.lang == "zh"
                                    else (f" in {parent_name}" if parent_name else ""), ctx)
            result[level] = found.name
            parent_name = found.name
            pool = found.children
            if level == "city" and not pool and "district" in wanted:
                break   # a county-level city directly under its province has no districts
        detail = raw.get("detail")
        if detail is not None and self.with_detail:
            detail = str(detail).strip()
            result["detail"] = detail[:500] or None
        return result

    def parse_text(self, text: str, ctx: ValueContext) -> dict[str, Any]:
        """Split "广东省深圳市南山区科技园1号" (or "广东 深圳 南山 科技园1号") into parts."""
        rest = text.strip()
        if not rest:
            raise FieldError("address_invalid")
        data = divisions()
        parts: dict[str, Any] = {}
        pool: dict[str, Division] = data.provinces
        for level in LEVELS:
            rest = rest.lstrip(" ,，/")
            match = None
            for division in sorted(pool.values(), key=lambda d: -len(d.name)):
                for name in (division.name, short_name(division.name)):
                    if rest.startswith(name):
                        match = (division, name)
                        break
                if match:
                    break
            if match is None:
                if level == "city" and parts.get("province") in pool:
                    match = (pool[parts["province"]], "")   # a municipality names itself once
                else:
                    break
            parts[level] = match[0].name
            rest = rest[len(match[1]):]
            pool = match[0].children
        parts["detail"] = rest.strip(" ,，") or None
        return self.clean(parts, ctx)

    def display(self, value: Any, ctx: ValueContext) -> str:
        if not value:
            return ""
        names = [value.get("province"), value.get("city"), value.get("district")]
        if names[0] == names[1]:
            names[1] = None
        text = "".join(n for n in names if n)
        return f"{text} {value['detail']}" if value.get("detail") else text

    def export_value(self, value: Any, ctx: ValueContext) -> Any:
        return self.display(value, ctx) or None

    def to_json(self, value: Any) -> Any:
        return value

    def search_clause(self, table, needle):
        return sa.or_(*[table.c[self.col(p)].contains(needle, autoescape=True) for p in PARTS])

    def filter_clause(self, table, op, operand, ctx):
        self.check_operator(op)
        province = table.c[self.col("province")]
        if op == "empty":
            return province.is_(None)
        if op == "not_empty":
            return province.is_not(None)
        if op == "contains":
            return self.search_clause(table, str(operand))
        items = operand if op == "in" else [operand]
        clauses = []
        for item in items if isinstance(items, list) else [items]:
            wanted = item if isinstance(item, dict) else {"province": item}
            parts = []
            pool = divisions().provinces
            for level in LEVELS:
                if wanted.get(level):
                    found = divisions().find_child(pool, str(wanted[level]))
                    if found is None:
                        raise self._problem(level, wanted[level], "", ctx)
                    parts.append(table.c[self.col(level)] == found.name)
                    pool = found.children
            clauses.append(sa.and_(*parts) if parts else sa.false())
        hit = sa.or_(*clauses) if clauses else sa.false()
        return sa.or_(~hit, province.is_(None)) if op == "ne" else hit

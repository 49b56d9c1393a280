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
from engine.fields.base import FieldType, SchemaContext, ValueContext, WidgetContext, contains_text
from engine.fields.divisions import Division, divisions, short_name
from engine.fields.registry import register
from engine.fields.text import check_text_content, require_text
from engine.i18n import register_messages

PARTS = ("province", "city", "district", "detail")
LEVELS = ("province", "city", "district")
MAX_DETAIL = 500

register_messages({
    "address_invalid": {"zh": "地址应为省、市、区和详细地址，如“广东省深圳市南山区科技园1号”",
                        "en": "An address is a province, city, district and street address, "
                              "like '广东省深圳市南山区科技园1号'"},
    "address_missing_province": {"zh": "请填写省份", "en": "The province is missing"},
    "address_missing_city": {"zh": "请填写城市", "en": "The city is missing"},
    "address_missing_district": {"zh": "请填写区县", "en": "The district is missing"},
    "address_unknown_province": {"zh": "找不到省份“{value}”", "en": "There is no province '{value}'"},
    "address_unknown_city": {"zh": "{parent}没有城市“{value}”", "en": "{parent} has no city '{value}'"},
    "address_unknown_district": {"zh": "{parent}没有区县“{value}”", "en": "{parent} has no district '{value}'"},
    "address_elsewhere": {"zh": "“{value}”不在{parent}，而在{actual}",
                          "en": "'{value}' is not in {parent}; it is in {actual}"},
    "address_detail_too_long": {"zh": "详细地址过长：最多 {max} 个字符，当前 {length} 个",
                                "en": "The street address is too long: at most {max} characters, got {length}"},
})


@register
class AddressField(FieldType):
    name = "address"
    label = Label("地址", "Address")
    config_schema = {"level": {"enum": list(LEVELS)}, "detail": {"type": "boolean"}}
    operators = frozenset({"eq", "ne", "in", "contains", "empty", "not_empty"})
    searchable = True
    formula_type = "text"
    widget_kind = "address"

    def __init__(self, fdef):
        super().__init__(fdef)
        self.level = fdef.option("level", "district")
        self.wanted = LEVELS[: LEVELS.index(self.level) + 1]
        self.with_detail = fdef.option("detail", True)

    def widget_options(self, ctx: WidgetContext) -> dict[str, Any]:
        """The cascader's depth (its levels come from the division data, by code) and
        whether it asks for a street address."""
        return {"levels": list(self.wanted), "detail": bool(self.with_detail), "max_detail_length": MAX_DETAIL}

    def col(self, part: str) -> str:
        return f"{self.key}__{part}"

    def columns(self) -> list[sa.Column]:
        return [sa.Column(self.col(p), sa.String(MAX_DETAIL if p == "detail" else 50), nullable=True)
                for p in PARTS]

    def to_row(self, value: Any) -> dict[str, Any]:
        value = value or {}
        return {self.col(p): value.get(p) for p in PARTS}

    def from_row(self, row) -> Any:
        value = {p: row.get(self.col(p)) for p in PARTS}
        return value if any(value.values()) else None

    def sort_expression(self, table):
        return table.c[self.col("province")]

    def is_empty(self, value: Any) -> bool:
        if isinstance(value, dict):
            return not any(str(v).strip() for v in value.values() if v is not None)
        return super().is_empty(value)

    def clean(self, raw: Any, ctx: ValueContext) -> dict[str, Any]:
        """{"province", "city", "district", "detail"} with full, official names. Each
        level is matched by full name, short name (广东) or code (440000) within its parent."""
        if isinstance(raw, str):
            return self.parse_text(raw, ctx)
        if not isinstance(raw, dict):
            raise FieldError("address_invalid")
        names = _named_divisions(raw, self.wanted, required=True)
        return {**{p: None for p in PARTS}, **names, "detail": self._detail(raw.get("detail"))}

    def _detail(self, detail: Any) -> str | None:
        if detail is None or not self.with_detail:
            return None
        text = check_text_content(str(detail).strip())
        if len(text) > MAX_DETAIL:
            raise FieldError("address_detail_too_long", max=MAX_DETAIL, length=len(text))
        return text or None

    def parse_text(self, text: str, ctx: ValueContext) -> dict[str, Any]:
        """Split "广东省深圳市南山区科技园1号" (or "广东 深圳 南山 科技园1号", or with
        slashes) into its parts; what follows the last division is the street address."""
        if not text.strip():
            raise FieldError("address_invalid")
        names, rest = _leading_divisions(text, self.wanted)
        return self.clean({**names, "detail": rest or None}, ctx)

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

    def json_schema(self, ctx: SchemaContext) -> dict:
        """{"province", "city", "district", "detail"} with official names; written, each
        level may be a short name (广东) or a code (440000), or the whole address one text."""
        part = {"type": ["string", "null"], "maxLength": 50}
        parts = {p: part for p in LEVELS}
        parts["detail"] = {"type": ["string", "null"], "maxLength": MAX_DETAIL}
        if not ctx.writing:
            return {"type": "object", "properties": parts, "required": list(PARTS), "additionalProperties": False}
        parts.update({p: {"type": ["string", "integer", "null"]} for p in LEVELS})
        return {"type": ["object", "string"], "properties": parts, "required": list(self.wanted),
                "maxLength": MAX_DETAIL + 200}

    def search_clause(self, table, needle):
        return sa.or_(*[contains_text(table.c[self.col(p)], needle) for p in PARTS])

    def filter_clause(self, table, op, operand, ctx):
        """eq/ne/in compare the divisions given (a province, or a province and city...)
        as text ("广东省深圳市") or as {"province", "city", "district"}."""
        self.check_operator(op)
        province = table.c[self.col("province")]
        if op == "empty":
            return province.is_(None)
        if op == "not_empty":
            return province.is_not(None)
        if op == "contains":
            return self.search_clause(table, check_text_content(require_text(operand)))
        if op == "in" and not isinstance(operand, (list, tuple)):
            raise FieldError("operand_needs_list", op=op)
        clauses = []
        for item in operand if op == "in" else [operand]:
            names = self._division_names(item)
            clauses.append(sa.and_(*[table.c[self.col(level)] == name for level, name in names.items()]))
        hit = sa.or_(*clauses) if clauses else sa.false()
        return sa.or_(~hit, province.is_(None)) if op == "ne" else hit

    def _division_names(self, operand: Any) -> dict[str, str]:
        """{level: official name} of the leading divisions a filter operand names."""
        if isinstance(operand, str):
            names, rest = _leading_divisions(operand, LEVELS)
            if rest or not names:
                raise FieldError("address_invalid")
            return names
        if not isinstance(operand, dict):
            raise FieldError("address_invalid")
        names = _named_divisions(operand, LEVELS, required=False)
        if not names:
            raise FieldError("address_missing_province")
        return names


_SEPARATORS = " ,，/-"


def _named_divisions(raw: dict, levels: tuple[str, ...], *, required: bool) -> dict[str, str]:
    """{level: official name} of the divisions given by name, short name or code in
    `raw`, each looked up within the one above. A missing level is an error when
    `required`, else the end; a division with no level below ends the walk."""
    names: dict[str, str] = {}
    path: list[Division] = []
    pool = divisions().provinces
    for level in levels:
        text = str(raw.get(level) or "").strip()
        if not pool or (not text and not required):
            break   # Hong Kong, or a county-level city under its province, has no level below
        if not text:
            raise FieldError(f"address_missing_{level}")
        found = divisions().find_child(pool, text)
        if found is None:
            raise _not_found(level, text, path, lambda d: text in _names(d))
        names[level] = found.name
        path.append(found)
        pool = found.children
    return names


def _leading_divisions(text: str, levels: tuple[str, ...]) -> tuple[dict[str, str], str]:
    """The divisions named at the start of `text`, level by level ({level: official
    name}), and the text after them. Stops at the end of the text or where a division
    has no level below; a name that is not there is an error saying where it is."""
    rest, names, path, pool = text.strip(), {}, [], divisions().provinces
    for level in levels:
        rest = rest.lstrip(_SEPARATORS)
        if not rest or not pool:
            break
        match = divisions().find_prefix(pool, rest)
        if match is None and level == "city" and path[0].name in pool:
            match = (pool[path[0].name], "")   # "北京市朝阳区": the municipality names itself once
        if match is None:
            raise _not_found(level, rest[:20], path, lambda d: rest.startswith(tuple(_names(d))))
        names[level] = match[0].name
        path.append(match[0])
        rest, pool = rest[len(match[1]):], match[0].children
    return names, rest.strip(_SEPARATORS)


def _names(division: Division) -> list[str]:
    return [division.name, short_name(division.name)]


def _not_found(level: str, text: str, path: list[Division], matches) -> FieldError:
    """The error for a division not found under its parent: where it really is, when it
    exists elsewhere (杭州市 is in 浙江省, not 广东省), else that the parent has no such place."""
    if not path:
        return FieldError("address_unknown_province", value=text[:30])
    parent = "".join(_dedupe(d.name for d in path))
    elsewhere = [p for p in divisions().paths_at(len(path)) if matches(p[-1])][:3]
    if elsewhere:
        actual = " / ".join("".join(_dedupe(d.name for d in p[:-1])) for p in elsewhere)
        return FieldError("address_elsewhere", value=elsewhere[0][-1].name, parent=parent, actual=actual)
    return FieldError(f"address_unknown_{level}", value=text[:30], parent=parent)


def _dedupe(names) -> list[str]:
    """Names without a municipality repeated as its own city (北京市北京市 -> 北京市)."""
    out: list[str] = []
    for name in names:
        if not out or out[-1] != name:
            out.append(name)
    return out

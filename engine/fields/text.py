"""Text fields: single-line text and multi-line textarea."""
from __future__ import annotations

import re
from typing import Any, Iterable

import sqlalchemy as sa

from engine.definition.model import Label
from engine.errors import FieldError, Problem
from engine.fields.base import (
    TEXT_OPS,
    DefinitionContext,
    FieldType,
    SchemaContext,
    ValueContext,
    WidgetContext,
    contains_text,
)
from engine.fields.registry import register
from engine.i18n import register_messages

MAX_TEXT = 1_000_000   # characters; beyond this a value is refused, never truncated

register_messages({
    "text_too_long": {"zh": "内容过长：最多 {max} 个字符，当前 {length} 个",
                      "en": "Too long: at most {max} characters, got {length}"},
    "text_too_short": {"zh": "内容过短：至少 {min} 个字符，当前 {length} 个",
                       "en": "Too short: at least {min} characters, got {length}"},
    "text_pattern": {"zh": "格式不正确：{hint_zh}", "en": "Wrong format: {hint_en}"},
    "text_control_chars": {"zh": "包含不可见的控制字符，请删除后再提交",
                           "en": "Contains invisible control characters; remove them and try again"},
    "text_bad_unicode": {"zh": "包含无法保存的字符（不成对的 UTF-16 代理项），请重新输入该内容",
                         "en": "Contains characters that cannot be stored (unpaired UTF-16 surrogates); "
                               "type the text again"},
    "text_expected": {"zh": "请填写文字（不能是列表、对象或是/否）",
                      "en": "Give text (not a list, an object or true/false)"},
})

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def check_text_content(text: str) -> str:
    """Refuse text no database can store faithfully: control characters (NUL breaks
    PostgreSQL) and unpaired surrogates (JSON can carry them, UTF-8 cannot). Every
    field type that stores free text runs its text through here."""
    if _CONTROL.search(text):
        raise FieldError("text_control_chars")
    if _SURROGATE.search(text):
        raise FieldError("text_bad_unicode")
    return text


def require_text(raw: Any) -> str:
    """User input that must be text (numbers are accepted as their digits)."""
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise FieldError("text_expected")
    return str(raw)


@register
class TextField(FieldType):
    name = "text"
    label = Label("单行文本", "Text")
    config_schema = {
        "max_length": {"type": "integer", "minimum": 1, "maximum": MAX_TEXT},
        "min_length": {"type": "integer", "minimum": 0, "maximum": MAX_TEXT},
        "pattern": {"type": "string", "maxLength": 500},
        "pattern_message": {"$ref": "#/$defs/label"},
    }
    can_be_unique = True
    searchable = True
    operators = TEXT_OPS
    formula_type = "text"
    python_type_name = "text"
    default_max = 200
    multiline = False
    can_match = True
    widget_kind = "text"

    def __init__(self, fdef):
        super().__init__(fdef)
        # Read the config once: clean() runs for every value of every import row.
        self.max_length = int(fdef.option("max_length", self.default_max))
        self.min_length = fdef.option("min_length")
        pattern = fdef.option("pattern")
        try:
            self.pattern = re.compile(pattern) if pattern else None
        except re.error:
            self.pattern = None   # reported by check_definition

    def check_definition(self, ctx: DefinitionContext) -> Iterable[Problem]:
        pattern = self.fdef.option("pattern")
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                yield Problem(f"{self.fdef.path}.pattern",
                              f"pattern is not a valid regular expression: {exc}", code="bad_pattern")
        low, high = self.fdef.option("min_length"), self.fdef.option("max_length")
        if low is not None and high is not None and low > high:
            yield Problem(f"{self.fdef.path}.min_length",
                          f"min_length {low} is greater than max_length {high}", code="bad_range")

    def sa_type(self):
        # Short unique text gets a bounded VARCHAR so it can be indexed everywhere.
        return sa.String(self.max_length) if self.max_length <= 1000 else sa.Text()

    def indexed(self) -> bool:
        return self.max_length <= 255

    def clean(self, raw: Any, ctx: ValueContext) -> Any:
        text = require_text(raw)
        if not self.multiline:
            text = text.strip()
            if "\n" in text or "\r" in text:
                text = " ".join(text.split())
        check_text_content(text)
        if len(text) > self.max_length:
            raise FieldError("text_too_long", max=self.max_length, length=len(text))
        if self.min_length and len(text) < self.min_length:
            raise FieldError("text_too_short", min=self.min_length, length=len(text))
        if self.pattern is not None and not self.pattern.fullmatch(text):
            hint = Label.parse(self.fdef.option("pattern_message") or self.pattern.pattern)
            raise FieldError("text_pattern", hint_zh=hint.zh, hint_en=hint.en)
        return text

    def search_clause(self, table: sa.Table, needle: str):
        return contains_text(table.c[self.column_name], needle)

    def json_schema(self, ctx: SchemaContext) -> dict:
        schema = {"type": "string", "maxLength": self.max_length}
        return {**schema, "type": ["string", "number"]} if ctx.writing else schema   # numbers as their digits

    def widget_options(self, ctx: WidgetContext) -> dict[str, Any]:
        message = self.fdef.option("pattern_message")
        return {"max_length": self.max_length, "min_length": self.min_length,
                "pattern": self.pattern.pattern if self.pattern is not None else None,
                "pattern_message": Label.parse(message).get(ctx.lang) if message else None}

    def clean_operand(self, operand: Any, ctx: ValueContext) -> Any:
        # Filters compare against what users type; length rules do not apply to a search.
        return check_text_content(require_text(operand))


@register
class TextareaField(TextField):
    name = "textarea"
    label = Label("多行文本", "Textarea")
    can_be_unique = False
    default_max = 20000
    multiline = True
    widget_kind = "textarea"
    can_match = False   # long text: notes, not names of records
    sortable = False

    def sa_type(self):
        return sa.Text()

    def indexed(self) -> bool:
        return False

    def parse_text(self, text: str, ctx: ValueContext) -> Any:
        return self.clean(text, ctx)   # leading spaces and tabs of multi-line text are content

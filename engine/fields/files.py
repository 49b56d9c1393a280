"""Attachments, images and signatures: values are ids of fw_files rows (the file
itself lives outside the database, see engine/storage/files.py)."""
from __future__ import annotations

from typing import Any

from engine.definition.model import Label
from engine.errors import FieldError
from engine.fields.base import (
    READ_ID,
    WRITE_ID,
    FieldType,
    Reference,
    SchemaContext,
    ValueContext,
    WidgetContext,
    blank,
    id_list_schema,
    parse_id,
    preview,
)
from engine.fields.multivalue import array_filter
from engine.fields.registry import register
from engine.i18n import register_messages
from engine.storage.types import JSONValue, RecordId

register_messages({
    "file_invalid": {"zh": "“{value}”不是有效的文件编号", "en": "'{value}' is not a file id"},
    "files_too_many": {"zh": "最多上传 {max} 个文件", "en": "At most {max} files"},
})


def _file_id(raw: Any) -> int:
    value = parse_id(raw)
    if value is None:
        raise FieldError("file_invalid", value=preview(raw, 40))
    return value


class _FileList(FieldType):
    operators = frozenset({"empty", "not_empty"})
    cell_importable = False   # files are uploaded; a spreadsheet cell only names them
    sortable = False
    can_have_default = False
    formula_type = "array"
    default_max = 10

    def sa_type(self):
        return JSONValue

    def clean(self, raw: Any, ctx: ValueContext) -> list[int]:
        items = raw if isinstance(raw, (list, tuple)) else [raw]
        ids: list[int] = []
        for item in items:
            value = _file_id(item)
            if value not in ids:
                ids.append(value)
        limit = int(self.fdef.option("max_files", self.default_max))
        if len(ids) > limit:
            raise FieldError("files_too_many", max=limit)
        return ids

    def is_empty(self, value: Any) -> bool:
        return blank(value)

    def references(self, value: Any) -> Reference | None:
        return Reference("files", None, tuple(value)) if value else None

    def json_schema(self, ctx: SchemaContext) -> dict:
        """Ids of uploaded files (POST /api/v1/files gives them)."""
        return id_list_schema(ctx, int(self.fdef.option("max_files", self.default_max)))

    def display(self, value: Any, ctx: ValueContext) -> str:
        names = ctx.names.get("files", {})
        return "、".join(str(names.get(i, f"#{i}")) for i in value or [])

    def export_value(self, value: Any, ctx: ValueContext) -> Any:
        return self.display(value, ctx) or None   # file names: the files stay in the file store

    def filter_clause(self, table, op, operand, ctx):
        self.check_operator(op)
        return array_filter(table.c[self.column_name], op, [])

    def widget_options(self, ctx: WidgetContext) -> dict[str, Any]:
        limits = self.upload_limits()
        accept = limits["accept"] or (["image/*"] if limits["images_only"] else None)
        return {"max_files": int(self.fdef.option("max_files", self.default_max)),
                "max_bytes": limits["max_bytes"], "accept": accept}

    def upload_limits(self) -> dict:
        """What FileStore.put should enforce for this field."""
        return {"max_bytes": int(float(self.fdef.option("max_size_mb", 20)) * 1024 * 1024),
                "accept": self.fdef.option("accept"), "images_only": self.name != "attachment"}


@register
class AttachmentField(_FileList):
    name = "attachment"
    label = Label("附件", "Attachments")
    widget_kind = "attachment"
    config_schema = {"max_files": {"type": "integer", "minimum": 1, "maximum": 100},
                     "max_size_mb": {"type": "number", "exclusiveMinimum": 0, "maximum": 1024},
                     "accept": {"type": "array", "items": {"type": "string", "maxLength": 100}}}


@register
class ImageField(_FileList):
    name = "image"
    label = Label("图片", "Images")
    widget_kind = "image"
    config_schema = {"max_files": {"type": "integer", "minimum": 1, "maximum": 50},
                     "max_size_mb": {"type": "number", "exclusiveMinimum": 0, "maximum": 100}}


@register
class SignatureField(FieldType):
    name = "signature"
    label = Label("手写签名", "Signature")
    widget_kind = "signature"
    operators = frozenset({"empty", "not_empty"})
    cell_importable = False
    sortable = False
    can_have_default = False

    def sa_type(self):
        return RecordId

    def clean(self, raw: Any, ctx: ValueContext) -> int:
        return _file_id(raw)

    def json_schema(self, ctx: SchemaContext) -> dict:
        return dict(WRITE_ID if ctx.writing else READ_ID)   # the id of the uploaded image

    def references(self, value: Any) -> Reference | None:
        return Reference("files", None, (value,)) if value else None

    def display(self, value: Any, ctx: ValueContext) -> str:
        return "" if value is None else str(ctx.names.get("files", {}).get(value, f"#{value}"))

    def export_value(self, value: Any, ctx: ValueContext) -> Any:
        return self.display(value, ctx) or None

    def upload_limits(self) -> dict:
        return {"max_bytes": 2 * 1024 * 1024, "accept": None, "images_only": True}

    def widget_options(self, ctx: WidgetContext) -> dict[str, Any]:
        return {"max_files": 1, "max_bytes": self.upload_limits()["max_bytes"], "accept": ["image/png"]}

"""Fields that connect forms: relation (to another form's records), lookup (a
field read through a relation) and subform (child rows with their own fields).

Their values are loaded for a whole page at once by the runtime (one statement
per relation or subform, never one per record); these classes own the
definition checks, the storage shape and the value rules.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

import sqlalchemy as sa

from engine.definition.model import FieldDef, Label
from engine.errors import FieldError, Problem
from engine.fields.base import (
    READ_ID,
    WRITE_ID,
    DefinitionContext,
    FieldType,
    Reference,
    SchemaContext,
    ValueContext,
    WidgetContext,
    blank,
    id_list_schema,
    parse_id,
    preview,
    scalar_filter,
    with_null,
)
from engine.fields.registry import field_type, get_type, register
from engine.i18n import register_messages
from engine.storage.types import RecordId
from engine.suggest import did_you_mean

ON_DELETE = ("set_null", "restrict", "cascade")

register_messages({
    "relation_invalid": {"zh": "关联记录编号“{value}”无效，应为记录的数字编号",
                         "en": "'{value}' is not a record id; give the number of the related record"},
    "relation_missing": {"zh": "关联的记录 #{id} 不存在或已删除",
                         "en": "The related record #{id} does not exist or is in the recycle bin"},
    "relation_too_many": {"zh": "最多关联 {max} 条记录，当前 {count} 条",
                          "en": "At most {max} related records, got {count}"},
    "subform_invalid": {"zh": "子表单的值应为行的列表", "en": "A subform value must be a list of rows"},
    "subform_row_invalid": {"zh": "第 {row} 行应为字段到值的对象",
                            "en": "Row {row} must be an object of field values"},
    "subform_too_few": {"zh": "至少需要 {min} 行，当前 {count} 行", "en": "Too few rows: at least {min}, got {count}"},
    "subform_too_many": {"zh": "最多 {max} 行，当前 {count} 行", "en": "At most {max} rows, got {count}"},
    "subform_unknown_column": {"zh": "子表单没有字段“{column}”{hint}",
                               "en": "The subform has no field '{column}'{hint}"},
    "lookup_read_only": {"zh": "引用字段由关联记录决定，不能直接填写",
                         "en": "A lookup field shows a value of the related record; it cannot be set"},
})

_LIST_SPLIT = str.maketrans({"，": ",", "；": ",", ";": ",", "、": ",", "|": ","})


def parse_record_id(raw: Any) -> int:
    value = parse_id(raw)
    if value is None:
        raise FieldError("relation_invalid", value=preview(raw))
    return value


@dataclass(frozen=True)
class RelationOptions:
    """What a relation field points at, as written (possibly wrong: validation says so).
    The path and graph analysis reads it before an app's types are bound."""

    target: Any
    multiple: bool

    @classmethod
    def of(cls, fdef: FieldDef) -> "RelationOptions":
        return cls(fdef.option("target"), bool(fdef.option("multiple", False)))


@dataclass(frozen=True)
class LookupOptions:
    """The relation a lookup field walks and the field it shows, as written."""

    relation: Any
    field: Any

    @classmethod
    def of(cls, fdef: FieldDef) -> "LookupOptions":
        return cls(fdef.option("relation"), fdef.option("field"))


@register
class RelationField(FieldType):
    name = "relation"
    path_kind = "relation"
    widget_kind = "relation"   # a picker searching the target's records (runtime/forms/pickers.py)
    label = Label("关联数据", "Relation")
    config_schema = {
        "target": {"type": "string"},
        "multiple": {"type": "boolean"},
        "on_delete": {"enum": list(ON_DELETE)},
        "max": {"type": "integer", "minimum": 1, "maximum": 10000},
    }
    config_required = ("target",)
    operators = frozenset({"eq", "ne", "in", "not_in", "contains", "empty", "not_empty"})
    formula_type = "number"
    allowed_in_subform = False
    can_have_default = False

    def __init__(self, fdef: FieldDef):
        super().__init__(fdef)
        options = RelationOptions.of(fdef)
        self.target, self.multiple = options.target, options.multiple
        self.on_delete = fdef.option("on_delete", "set_null")
        self.storage = "link_table" if self.multiple else "column"
        self.sortable = not self.multiple

    def check_definition(self, ctx: DefinitionContext) -> Iterable[Problem]:
        if ctx.app.form(self.target) is None:
            forms = [f.key for f in ctx.app.forms if f.key]
            yield Problem(f"{self.fdef.path}.target",
                          f"relation target {self.target!r} is not a form of this app; name one of its forms "
                          f"({', '.join(forms[:20])})", code="unknown_form",
                          suggestion=did_you_mean(self.target, forms))
        if self.fdef.option("max") is not None and not self.multiple:
            yield Problem(f"{self.fdef.path}.max", "max applies only to multiple relations; remove max, or add "
                          "`multiple: true`", code="bad_option")

    def sa_type(self):
        return RecordId

    def widget_options(self, ctx: WidgetContext) -> dict[str, Any]:
        target = ctx.app.form(self.target)
        return {"target": self.target, "target_label": ctx.text(target.label) if target else None,
                "title_field": target.title_key() if target else None,
                "multiple": self.multiple, "max": self.fdef.option("max")}

    def indexed(self) -> bool:
        return True

    def clean(self, raw: Any, ctx: ValueContext) -> Any:
        if not self.multiple:
            return parse_record_id(raw)
        items = raw if isinstance(raw, (list, tuple)) else [raw]
        ids: list[int] = []
        for item in items:
            record_id = parse_record_id(item)
            if record_id not in ids:
                ids.append(record_id)
        limit = self.fdef.option("max")
        if limit and len(ids) > limit:
            raise FieldError("relation_too_many", max=limit, count=len(ids))
        return ids

    def is_empty(self, value: Any) -> bool:
        return blank(value)

    def references(self, value: Any) -> Reference | None:
        if value in (None, []):
            return None
        ids = tuple(value) if self.multiple else (value,)
        return Reference("form", self.target, ids)

    def parse_text(self, text: str, ctx: ValueContext) -> Any:
        text = text.strip()
        if self.multiple:
            return self.clean([t for t in text.translate(_LIST_SPLIT).split(",") if t.strip()], ctx)
        return self.clean(text, ctx)

    def json_schema(self, ctx: SchemaContext) -> dict:
        """The id of the related record (ids, in order, for a multiple relation); its title
        is in the record's `titles`."""
        if self.multiple:
            return id_list_schema(ctx, self.fdef.option("max"))
        return dict(WRITE_ID if ctx.writing else READ_ID)

    def to_json(self, value: Any) -> Any:
        return value

    def display(self, value: Any, ctx: ValueContext) -> str:
        titles = ctx.titles.get(self.key, {})
        ids = value if isinstance(value, list) else ([] if value is None else [value])
        return ", ".join(str(titles.get(i, f"#{i}")) for i in ids)

    def clean_operand(self, operand: Any, ctx: ValueContext) -> Any:
        return parse_record_id(operand)

    def filter_clause(self, table: sa.Table, op: str, operand: Any, ctx: ValueContext):
        self.check_operator(op)
        if not self.multiple:
            if op == "contains":
                op = "eq"
            return scalar_filter(self, table.c[self.column_name], op, operand, ctx)
        link = ctx.links[self.key]
        linked = sa.select(link.c.source_id).where(link.c.source_id == table.c.id)
        if op == "empty":
            return ~linked.exists()
        if op == "not_empty":
            return linked.exists()
        values = operand if isinstance(operand, (list, tuple)) else [operand]
        ids = [parse_record_id(v) for v in values]
        hit = linked.where(link.c.target_id.in_(ids)).exists()
        return ~hit if op in ("ne", "not_in") else hit


@register
class LookupField(FieldType):
    """A field of the related record, shown on this form (read through `relation`)."""

    name = "lookup"
    path_kind = "lookup"
    widget_kind = "lookup"     # read-only: the value of the chosen related record
    label = Label("引用字段", "Lookup")
    config_schema = {
        "relation": {"type": "string"},
        "field": {"type": "string"},
    }
    config_required = ("relation", "field")
    storage = "none"
    sortable = False
    can_have_default = False
    allowed_in_subform = False

    def __init__(self, fdef: FieldDef):
        super().__init__(fdef)
        options = LookupOptions.of(fdef)
        self.relation_key, self.target_field_key = options.relation, options.field

    def resolve(self, form, app) -> tuple[FieldDef, FieldDef] | None:
        """The relation field on this form and the field it reads on the target form."""
        relation = form.field(self.relation_key)
        if relation is None or relation.type != RelationField.name:
            return None
        target_form = app.form(RelationOptions.of(relation).target)
        target_field = target_form.field(self.target_field_key) if target_form else None
        return (relation, target_field) if target_field else None

    def check_definition(self, ctx: DefinitionContext) -> Iterable[Problem]:
        relation = ctx.form.field(self.relation_key)
        if relation is None or relation.type != RelationField.name:
            relations = [f.key for f in ctx.form.fields if f.type == RelationField.name]
            what = "not a field of this form" if relation is None else f"a {relation.type} field"
            yield Problem(f"{self.fdef.path}.relation",
                          f"a lookup reads through a relation field of this form, and {self.relation_key!r} is "
                          f"{what}; " + (f"name one of its relations ({', '.join(relations)})" if relations
                                         else "add a relation field first"),
                          code="unknown_field" if relation is None else "bad_lookup",
                          suggestion=did_you_mean(self.relation_key, relations))
            return
        if relation.option("multiple"):
            yield Problem(f"{self.fdef.path}.relation",
                          f"a lookup reads through a single relation, and {self.relation_key!r} is multiple "
                          "(one record can link several); name a relation without `multiple: true`",
                          code="bad_lookup")
        target_form = ctx.app.form(relation.option("target"))
        if target_form is None:
            return  # reported on the relation itself
        target_field = target_form.field(self.target_field_key)
        if target_field is None:
            yield Problem(f"{self.fdef.path}.field",
                          f"form {target_form.key!r} (the target of {self.relation_key!r}) has no field "
                          f"{self.target_field_key!r}; name one of its fields", code="unknown_field",
                          suggestion=did_you_mean(self.target_field_key, target_form.field_keys()))
        elif target_field.type in (LookupField.name, SubformField.name) or (
                target_field.type == RelationField.name and target_field.option("multiple")):
            yield Problem(f"{self.fdef.path}.field",
                          f"a lookup cannot read {target_field.type} field {target_field.key!r}; "
                          "choose a field stored on the target form", code="bad_lookup")

    def clean(self, raw: Any, ctx: ValueContext) -> Any:
        raise FieldError("lookup_read_only")

    def json_schema(self, ctx: SchemaContext) -> dict:
        """The value of the field it shows, as that field's type reads it (any JSON value
        when the app cannot tell which field that is)."""
        target = ctx.lookup_target(self)
        return target.json_schema(SchemaContext("read", ctx.lang)) if target is not None else {}

    def widget_options(self, ctx: WidgetContext) -> dict[str, Any]:
        shown = _lookup_target(ctx.app, self)
        return {"relation": self.relation_key, "field": self.target_field_key,
                "shows": get_type(shown.type).widget_kind if shown is not None and get_type(shown.type) else None}


@register
class SubformField(FieldType):
    name = "subform"
    path_kind = "subform"
    widget_kind = "subform"    # an editable table of its columns' widgets
    label = Label("子表单", "Subform")
    config_schema = {
        "min_rows": {"type": "integer", "minimum": 0, "maximum": 10000},
        "max_rows": {"type": "integer", "minimum": 1, "maximum": 10000},
        # The columns: each item is a field definition (checked like a form's fields).
        "fields": {"type": "array", "minItems": 1},
    }
    storage = "child_table"
    sortable = False
    can_have_default = False
    allowed_in_subform = False
    has_subfields = True

    def check_definition(self, ctx: DefinitionContext) -> Iterable[Problem]:
        if not self.fdef.fields:
            yield Problem(f"{self.fdef.path}.fields", "a subform needs at least one field",
                          code="empty_subform")
        low, high = self.fdef.option("min_rows"), self.fdef.option("max_rows")
        if low is not None and high is not None and low > high:
            yield Problem(f"{self.fdef.path}.min_rows", f"min_rows {low} is greater than max_rows {high}; "
                          "lower min_rows or raise max_rows", code="bad_range")

    def __init__(self, fdef: FieldDef, derived=None, columns: list[FieldType] | None = None):
        super().__init__(fdef)
        # Bound by the app's FieldTypes (a formula column needs what the app derives).
        self._columns = columns

    def widget_options(self, ctx: WidgetContext) -> dict[str, Any]:
        return {"min_rows": self.fdef.option("min_rows"), "max_rows": self.fdef.option("max_rows"),
                "columns": [column.widget(ctx) for column in self.column_types()]}

    def column_types(self) -> list[FieldType]:
        if self._columns is None:
            self._columns = [field_type(sub) for sub in self.fdef.fields if get_type(sub.type) is not None]
        return self._columns

    def is_empty(self, value: Any) -> bool:
        # With min_rows, no rows at all is too few rows, not "no value": clean() says so.
        return not value and not self.fdef.option("min_rows")

    def clean(self, raw: Any, ctx: ValueContext) -> list[dict]:
        """Shape checks only; each cell is cleaned by the runtime so that every cell error
        is reported with its row and column."""
        if raw is None:
            raw = []
        if not isinstance(raw, (list, tuple)):
            raise FieldError("subform_invalid")
        for index, row in enumerate(raw):
            if not isinstance(row, dict):
                raise FieldError("subform_row_invalid", row=index + 1)
        count = len(raw)
        low, high = self.fdef.option("min_rows"), self.fdef.option("max_rows")
        if low and count < low:
            raise FieldError("subform_too_few", min=low, count=count)
        if high and count > high:
            raise FieldError("subform_too_many", max=high, count=count)
        return [dict(row) for row in raw]

    def json_schema(self, ctx: SchemaContext) -> dict:
        """The rows, each an object of its columns (read: with the row's `id`; written: the
        columns that take input, a row's `id` allowed and ignored)."""
        columns = {}
        for column in self.column_types():
            if ctx.writing and not column.accepts_input:
                continue
            schema = with_null(column.json_schema(ctx))
            label = column.fdef.label.get(ctx.lang)
            columns[column.key] = {"title": label, **schema, **({} if column.accepts_input else {"readOnly": True})}
        row = {"type": "object", "properties": {"id": READ_ID, **columns}, "additionalProperties": False}
        if not ctx.writing:
            row["required"] = ["id"]
        schema = {"type": "array", "items": row}
        low, high = self.fdef.option("min_rows"), self.fdef.option("max_rows")
        if high:
            schema["maxItems"] = high
        if low:
            schema["minItems"] = low if ctx.writing else 0
        return schema

    def to_json(self, value: Any) -> Any:
        if value is None:
            return []
        columns = {t.key: t for t in self.column_types()}
        return [{k: (columns[k].to_json(v) if k in columns else v) for k, v in row.items()}
                for row in value]

    def display(self, value: Any, ctx: ValueContext) -> str:
        if not value:
            return ""
        return f"{len(value)} 行" if ctx.lang == "zh" else f"{len(value)} rows"


def _lookup_target(app, lookup: LookupField) -> FieldDef | None:
    """The field a lookup shows: the lookup's own form is the one whose fields hold it."""
    for form in app.forms:
        if any(f is lookup.fdef for f in form.fields):
            resolved = lookup.resolve(form, app)
            return resolved[1] if resolved else None
    return None

"""Member and department fields: one user or department (member, department) or
several (members, departments). Values are ids of fw_users / fw_departments; the
runtime checks that they exist with one query per batch (see `references`).

Imports may give names or accounts: the import builds `ctx.lookups["users"]`
/ `["department_lookup"]` (text -> id, one query) and these types use it.
"""
from __future__ import annotations

from typing import Any

from engine.definition.model import Label
from engine.errors import FieldError
from engine.fields.base import (
    CHOICE_OPS,
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
    "member_invalid": {"zh": "“{value}”不是有效的成员：请填写成员编号（或在导入时填写账号、姓名）",
                       "en": "'{value}' is not a member: give the member's id (or, in imports, the account or name)"},
    "member_unknown": {"zh": "找不到账号或姓名为“{value}”的成员", "en": "No member has the account or name '{value}'"},
    "department_invalid": {"zh": "“{value}”不是有效的部门：请填写部门编号（或在导入时填写部门名称）",
                           "en": "'{value}' is not a department: give the department's id (or, in imports, its name)"},
    "department_unknown": {"zh": "找不到名为“{value}”的部门", "en": "No department is named '{value}'"},
    "member_too_many": {"zh": "最多选择 {max} 个", "en": "Choose at most {max}"},
})

_SPLIT = str.maketrans({"，": ",", "；": ",", ";": ",", "、": ",", "|": ","})


class _OrgRef(FieldType):
    kind = "users"          # the system table the ids point into
    invalid_code, unknown_code = "member_invalid", "member_unknown"
    looks_up_names = True   # imports may give an account or a name (ValueContext.lookups)
    multiple = False
    can_have_default = False

    def _one(self, raw: Any, ctx: ValueContext) -> int:
        """An id, or (in imports, which give a lookup) an account or name."""
        value = parse_id(raw)
        if value is not None:
            return value
        if isinstance(raw, str) and raw.strip() and self.kind in ctx.lookups:
            found = ctx.lookups[self.kind].get(raw.strip())
            if found is None:
                raise FieldError(self.unknown_code, value=raw.strip()[:50])
            return found
        raise FieldError(self.invalid_code, value=preview(raw))

    def convert_from(self, old: FieldType, value: Any, ctx: ValueContext) -> Any:
        if value is None or not (isinstance(old, _OrgRef) and old.kind == self.kind):
            return super().convert_from(old, value, ctx)
        ids = value if isinstance(value, list) else [value]   # member <-> members keep their ids
        if self.multiple:
            return self.clean(ids, ctx)
        if len(ids) > 1:
            raise FieldError("member_too_many", max=1)
        return self.clean(ids[0], ctx)

    def references(self, value: Any) -> Reference | None:
        if value in (None, []):
            return None
        return Reference(self.kind, None, tuple(value) if self.multiple else (value,))

    def display(self, value: Any, ctx: ValueContext) -> str:
        names = ctx.names.get(self.kind, {})
        ids = value if isinstance(value, list) else ([] if value is None else [value])
        return "、".join(str(names.get(i, f"#{i}")) for i in ids)

    def export_value(self, value: Any, ctx: ValueContext) -> Any:
        return self.display(value, ctx) or None


class _Single(_OrgRef):
    operators = CHOICE_OPS
    formula_type = "number"

    def sa_type(self):
        return RecordId

    def indexed(self) -> bool:
        return True

    def clean(self, raw: Any, ctx: ValueContext) -> int:
        return self._one(raw, ctx)

    def json_schema(self, ctx: SchemaContext) -> dict:
        return dict(WRITE_ID if ctx.writing else READ_ID)   # the id of a member or department


class _Multiple(_OrgRef):
    multiple = True
    sortable = False
    config_schema = {"max": {"type": "integer", "minimum": 1, "maximum": 1000}}
    operators = frozenset({"eq", "ne", "in", "not_in", "contains", "empty", "not_empty"})
    formula_type = "array"

    def sa_type(self):
        return JSONValue

    def clean(self, raw: Any, ctx: ValueContext) -> list[int]:
        items = raw if isinstance(raw, (list, tuple)) else \
            [p for p in str(raw).translate(_SPLIT).split(",") if p.strip()]
        ids: list[int] = []
        for item in items:
            value = self._one(item.strip() if isinstance(item, str) else item, ctx)
            if value not in ids:
                ids.append(value)
        limit = self.fdef.option("max")
        if limit and len(ids) > limit:
            raise FieldError("member_too_many", max=limit)
        return ids


    def json_schema(self, ctx: SchemaContext) -> dict:
        return id_list_schema(ctx, self.fdef.option("max"), text=True)
    def is_empty(self, value: Any) -> bool:
        return blank(value)

    def filter_clause(self, table, op, operand, ctx):
        self.check_operator(op)
        values = []
        if op not in ("empty", "not_empty"):
            items = operand if isinstance(operand, (list, tuple)) else [operand]
            values = [self._one(v, ctx) for v in items]
        return array_filter(table.c[self.column_name], op, values)

    def widget_options(self, ctx: WidgetContext) -> dict[str, Any]:
        return {"multiple": True, "max": self.fdef.option("max")}


@register
class MemberField(_Single):
    name = "member"
    label = Label("成员单选", "Member")
    widget_kind = "member"
    config_schema = {"default_current_user": {"type": "boolean"}}
    # No fixed default (an id written into a definition), but `default_formula: CURRENTUSER()`.
    can_have_default_formula = True

    def widget_options(self, ctx: WidgetContext) -> dict[str, Any]:
        return {"multiple": False, "default_current_user": bool(self.fdef.option("default_current_user"))}

    def initial_value(self, ctx: ValueContext) -> int | None:
        """The creating user, when the definition says `default_current_user: true`."""
        return ctx.user_id if self.fdef.option("default_current_user") else None


@register
class MembersField(_Multiple):
    name = "members"
    label = Label("成员多选", "Members")
    widget_kind = "members"


class _DepartmentMixin:
    kind = "departments"
    invalid_code, unknown_code = "department_invalid", "department_unknown"


@register
class DepartmentField(_DepartmentMixin, _Single):
    name = "department"
    label = Label("部门单选", "Department")
    widget_kind = "department"

    def widget_options(self, ctx: WidgetContext) -> dict[str, Any]:
        return {"multiple": False}


@register
class DepartmentsField(_DepartmentMixin, _Multiple):
    name = "departments"
    label = Label("部门多选", "Departments")
    widget_kind = "departments"

"""What the filter builder of a data table may offer, from the field types themselves:
each field the reader may see with the operators its type supports (FieldType.operators),
the kind of value an operator takes and, for option fields, the options. The page's
JavaScript builds conditions of the filter language (docs/records.md) from this and
never keeps its own list of operators.

    filter_fields(records, "customers")
    # [{"key": "name", "label": "名称", "type": "text", "input": "text",
    #   "operators": [{"op": "eq", "label": "等于", "operand": "one"}, ...]}, ...]

`operand` says what the value is: "none" (empty, not_empty, today, this_week,
this_month), "one", "list" (in, not_in), "pair" (between) or "days" (last_n_days, with
the day counts offered as shortcuts in `presets`: the last 7 and 30 days). `input` says
which widget takes it: text, number, date, datetime, option (from `options`), member or
department (ids, chosen from the form's member and department pickers).
"""
from __future__ import annotations

from typing import Any

from engine.definition.model import FormDef, Label
from engine.fields.base import FieldType
from engine.fields.relation import LookupField
from runtime.records.service import Records
from runtime.views.spec import SYSTEM_LABELS, column_label

# The order operators are offered in (the field type decides which of them it has).
OPERATOR_ORDER = ("eq", "ne", "contains", "starts_with", "in", "not_in", "gt", "gte", "lt", "lte",
                  "between", "today", "this_week", "this_month", "last_n_days", "empty", "not_empty")

OPERATOR_LABELS = {
    "eq": Label("等于", "is"), "ne": Label("不等于", "is not"), "contains": Label("包含", "contains"),
    "starts_with": Label("开头是", "starts with"), "in": Label("是其中之一", "is any of"),
    "not_in": Label("不是其中任何一个", "is none of"), "gt": Label("大于", "greater than"),
    "gte": Label("大于等于", "at least"), "lt": Label("小于", "less than"), "lte": Label("小于等于", "at most"),
    "between": Label("介于", "between"), "today": Label("今天", "today"),
    "this_week": Label("本周", "this week"), "this_month": Label("本月", "this month"),
    "last_n_days": Label("最近 N 天", "in the last N days"), "empty": Label("为空", "is empty"),
    "not_empty": Label("不为空", "is not empty"),
}

OPERAND = {"empty": "none", "not_empty": "none", "today": "none", "this_week": "none",
           "this_month": "none", "in": "list", "not_in": "list", "between": "pair",
           "last_n_days": "days"}

DAY_PRESETS = (7, 30)            # last_n_days shortcuts: the last 7 days, the last 30 days
ORG_INPUTS = {"member": "member", "members": "member", "department": "department",
              "departments": "department"}   # by the type's widget kind: the ids they hold

NUMBER_TYPES = {"number", "integer", "money", "percent", "rating", "decimal"}
DATE_TYPES = {"date": "date", "datetime": "datetime"}
SYSTEM_FILTERS = {"id": ("number", ("eq", "ne", "in", "gt", "gte", "lt", "lte")),
                  "created_at": ("datetime", ("today", "this_week", "this_month", "last_n_days",
                                              "gte", "lt", "between")),
                  "updated_at": ("datetime", ("today", "this_week", "this_month", "last_n_days",
                                              "gte", "lt", "between"))}


def filter_fields(records: Records, form_key: str) -> list[dict[str, Any]]:
    """The fields of `form_key` the reader may see and filter on, then the system columns."""
    app, lang = records.app, records.ctx.lang
    form = app.require_form(form_key)
    access = records.access(form)
    out = []
    for fdef in form.fields:
        ftype = app.types.of(fdef)
        if not access.can_see(fdef.key) or not ftype.operators:
            continue
        out.append({"key": fdef.key, "label": column_label(form, fdef.key, lang), "type": fdef.type,
                    "input": input_kind(_read_type(app, form, ftype)),
                    "operators": operators_json(ftype.operators, lang),
                    **_choices(_read_type(app, form, ftype), lang)})
    for key, (kind, ops) in SYSTEM_FILTERS.items():
        out.append({"key": key, "label": SYSTEM_LABELS[key].get(lang), "type": "system",
                    "input": kind, "operators": operators_json(ops, lang)})
    return out


def operators_json(ops, lang: str) -> list[dict[str, Any]]:
    return [{"op": op, "label": OPERATOR_LABELS[op].get(lang), "operand": OPERAND.get(op, "one"),
             **({"presets": list(DAY_PRESETS)} if OPERAND.get(op) == "days" else {})}
            for op in OPERATOR_ORDER if op in ops]


def input_kind(ftype: FieldType) -> str:
    """The value input the builder shows: text, number, date, datetime, option, member
    or department."""
    name = ftype.name
    if ftype.widget_kind in ORG_INPUTS:
        return ORG_INPUTS[ftype.widget_kind]
    if name in DATE_TYPES:
        return DATE_TYPES[name]
    if name in NUMBER_TYPES:
        return "number"
    if hasattr(ftype, "options"):
        return "option"
    return "text"


def _read_type(app, form: FormDef, ftype: FieldType) -> FieldType:
    """A lookup filters as the field it reads."""
    if isinstance(ftype, LookupField):
        resolved = ftype.resolve(form, app)
        if resolved:
            return app.types.of(resolved[1])
    return ftype


def _choices(ftype: FieldType, lang: str) -> dict[str, Any]:
    options = getattr(ftype, "options", None)
    if options is None or not hasattr(options, "values"):
        return {}
    return {"options": [{"value": v, "label": options.labels[v].get(lang)} for v in options.values]}

"""The app of a new user's trial of spreadsheet imports (issue #8): customers with a
field required only when a customer is lost, a required field a default formula fills,
fields of every kind a mapping's `match:` may or may not name, and orders that must
name their customer and show whom that customer was referred by."""
from __future__ import annotations

import csv
import copy

from engine.definition.model import AppDef
from runtime.apps import apply_app


def L(zh, en):
    return {"zh": zh, "en": en}


DEFINITION = {
    "format_version": 1,
    "app": {"key": "trial", "label": L("试用", "Trial")},
    "forms": [
        {"key": "customers", "label": L("客户", "Customers"), "title_field": "name", "fields": [
            {"key": "name", "type": "text", "label": L("名称", "Name"), "required": True},
            {"key": "phone", "type": "phone", "label": L("电话", "Phone"), "unique": True},
            {"key": "code", "type": "serial", "label": L("编号", "Number"), "pattern": "KH{counter:4}"},
            {"key": "credit", "type": "number", "label": L("额度", "Credit"), "precision": 2},
            {"key": "note", "type": "textarea", "label": L("备注", "Note")},
            {"key": "tags", "type": "checkbox", "label": L("标签", "Tags"), "options": ["新", "老"]},
            {"key": "files", "type": "attachment", "label": L("附件", "Files")},
            {"key": "name_length", "type": "formula", "label": L("名称长度", "Name length"),
             "formula": "LEN(name)"},
            {"key": "stage", "type": "radio", "label": L("阶段", "Stage"), "options": [
                {"value": "open", "label": L("跟进中", "Open")}, {"value": "lost", "label": L("已流失", "Lost")}]},
            {"key": "lost_reason", "type": "text", "label": L("流失原因", "Why lost"), "required": True,
             "visible_if": 'stage = "lost"'},
            {"key": "follow_up", "type": "date", "label": L("回访日期", "Follow up on"), "required": True,
             "default_formula": "TODAY() + 7"},
            {"key": "referrer", "type": "relation", "label": L("推荐人", "Referrer"), "target": "customers"},
        ]},
        {"key": "orders", "label": L("订单", "Orders"), "fields": [
            {"key": "title", "type": "text", "label": L("标题", "Title"), "required": True},
            {"key": "customer", "type": "relation", "label": L("客户", "Customer"), "target": "customers",
             "required": True},
            {"key": "customer_referrer", "type": "lookup", "label": L("客户的推荐人", "Customer's referrer"),
             "relation": "customer", "field": "referrer"},
            {"key": "customer_phone", "type": "lookup", "label": L("客户电话", "Customer phone"),
             "relation": "customer", "field": "phone"},
        ]},
    ],
}


def install_trial(engine) -> AppDef:
    app = AppDef.from_dict(copy.deepcopy(DEFINITION))
    apply_app(engine, app)
    return app


def write_csv(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))

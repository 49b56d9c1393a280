"""The app of the record-page tests: customers with an option, a member and a
department; orders pointing at them (single relation, multiple tags, a lookup, a
subform); visits pointing at customers. `Salesperson` is a small policy: own customers
only (row scope), `note` hidden, `level` read-only; every other form in full."""
from __future__ import annotations

import copy
from dataclasses import dataclass

from engine.definition.model import AppDef
from runtime.actor import Actor
from runtime.apps import apply_app
from runtime.org import Org
from runtime.permissions import FULL, FormAccess
from runtime.records import Records


def L(zh, en=None):
    return {"zh": zh, "en": en or zh}


DEFINITION = {
    "format_version": 1,
    "app": {"key": "crm", "label": L("客户管理", "CRM")},
    "forms": [
        {"key": "customers", "label": L("客户", "Customers"), "title_field": "name", "fields": [
            {"key": "name", "type": "text", "label": L("名称", "Name"), "required": True},
            {"key": "level", "type": "select", "label": L("等级", "Level"), "options": [
                {"value": "vip", "label": L("重要客户", "VIP")},
                {"value": "normal", "label": L("普通客户", "Regular")}]},
            {"key": "owner", "type": "member", "label": L("负责人", "Owner")},
            {"key": "dept", "type": "department", "label": L("部门", "Department")},
            {"key": "note", "type": "textarea", "label": L("备注", "Note")},
            {"key": "credit", "type": "number", "label": L("额度", "Credit"), "precision": 0, "min": 0},
        ]},
        {"key": "tags", "label": L("标签", "Tags"), "fields": [
            {"key": "name", "type": "text", "label": L("名称", "Name"), "required": True},
        ]},
        {"key": "orders", "label": L("订单", "Orders"), "fields": [
            {"key": "title", "type": "text", "label": L("标题", "Title"), "required": True},
            {"key": "customer", "type": "relation", "label": L("客户", "Customer"), "target": "customers"},
            {"key": "customer_level", "type": "lookup", "label": L("客户等级", "Customer level"),
             "relation": "customer", "field": "level"},
            {"key": "tags", "type": "relation", "label": L("标签", "Tags"), "target": "tags",
             "multiple": True, "on_delete": "set_null"},
            {"key": "items", "type": "subform", "label": L("明细", "Items"), "fields": [
                {"key": "product", "type": "text", "label": L("产品", "Product"), "required": True},
                {"key": "qty", "type": "number", "label": L("数量", "Qty"), "precision": 0, "min": 1},
            ]},
        ]},
        {"key": "visits", "label": L("拜访", "Visits"), "fields": [
            {"key": "summary", "type": "text", "label": L("纪要", "Summary"), "required": True},
            {"key": "customers", "type": "relation", "label": L("客户", "Customers"), "target": "customers",
             "multiple": True},
        ]},
    ],
}


def crm_app() -> AppDef:
    return AppDef.from_dict(copy.deepcopy(DEFINITION))


class Salesperson:
    """Customers: own rows only (owner_id), `note` hidden, `level` read-only."""

    def access(self, app, form, actor):
        if form.key != "customers":
            return FULL
        table = app.tables.form_table(form.key)
        return FormAccess.limited(form, row_scope=table.c.owner_id == actor.user_id,
                                  visible=[k for k in form.field_keys() if k != "note"],
                                  editable=[k for k in form.field_keys() if k not in ("note", "level")])


@dataclass
class Crm:
    engine: object
    app: AppDef
    li: Actor          # 李雷, a salesperson
    han: Actor         # 韩梅梅, another one
    dept_id: int

    def records(self, conn, actor=None, policy=None, lang=None):
        if policy is None and actor is None:
            return Records(conn, self.app, lang=lang)
        return Records(conn, self.app, actor=actor, policy=policy or Salesperson(), lang=lang)


def install_crm(engine) -> Crm:
    app = crm_app()
    apply_app(engine, app)
    with engine.begin() as conn:
        org = Org(conn)
        li = org.users.add("li.lei", "李雷")
        han = org.users.add("han.meimei", "韩梅梅")
        dept = org.departments.create("华东销售部")
    return Crm(engine, app, Actor(user_id=li.id, account="li.lei", name="李雷", lang="zh"),
               Actor(user_id=han.id, account="han.meimei", name="韩梅梅", lang="zh"), dept.id)

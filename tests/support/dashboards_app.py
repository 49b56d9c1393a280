"""The small app of the dashboard tests and docs (tests/runtime/dashboards, tests/docs):
customers (level, owner, department) and their orders, and `fill`, which installs it with
a dashboard and writes two customers and four orders whose figures the tests work out
by hand."""
from __future__ import annotations

import copy
from datetime import datetime, timezone

from engine.definition.model import AppDef
from runtime.apps import apply_app, load_installed
from runtime.org import Org
from runtime.records import Records

NOW = datetime(2026, 3, 20, 4, tzinfo=timezone.utc)


def L(zh, en=None):
    return {"zh": zh, "en": en or zh}


DEFINITION = {
    "format_version": 1,
    "app": {"key": "shop", "label": L("商店", "Shop")},
    "forms": [
        {"key": "customers", "label": L("客户", "Customers"), "title_field": "name", "fields": [
            {"key": "name", "type": "text", "label": L("名称", "Name")},
            {"key": "level", "type": "select", "label": L("等级", "Level"), "options": ["vip", "normal"]},
            {"key": "owner", "type": "member", "label": L("负责人", "Owner")},
            {"key": "dept", "type": "department", "label": L("部门", "Department")},
        ]},
        {"key": "orders", "label": L("订单", "Orders"), "fields": [
            {"key": "title", "type": "text", "label": L("标题", "Title")},
            {"key": "customer", "type": "relation", "label": L("客户", "Customer"), "target": "customers"},
            {"key": "amount", "type": "number", "label": L("金额", "Amount"), "precision": 2},
            {"key": "qty", "type": "number", "label": L("数量", "Qty"), "precision": 0},
            {"key": "ordered_on", "type": "date", "label": L("日期", "Date")},
            {"key": "status", "type": "select", "label": L("状态", "Status"), "options": ["new", "paid", "lost"]},
        ]},
    ],
}


def fill(db, dashboard: dict) -> dict:
    """Install the app with `dashboard`, write its records; the ids by name."""
    raw = copy.deepcopy(DEFINITION)
    raw["dashboards"] = [dashboard]
    apply_app(db, AppDef.from_dict(raw))
    with db.begin() as conn:
        org = Org(conn)
        li, han = org.users.add("li", "李雷").id, org.users.add("han", "韩梅").id
        east = org.departments.create("华东").id
        shanghai = org.departments.create("上海", parent=east).id
        app = load_installed(conn, "shop")
        records = Records(conn, app, now=NOW)
        a, b = [r["id"] for r in records.bulk_create("customers", [
            {"name": "甲", "level": "vip", "owner": li, "dept": shanghai},
            {"name": "乙", "level": "normal", "owner": han}])]
        records.bulk_create("orders", [
            {"title": "o1", "customer": a, "amount": "100.00", "qty": 1, "ordered_on": "2026-01-05", "status": "paid"},
            {"title": "o2", "customer": a, "amount": "50.50", "qty": 2, "ordered_on": "2026-01-06", "status": "new"},
            {"title": "o3", "customer": b, "amount": "30.00", "qty": 3, "ordered_on": "2026-02-10", "status": "lost"},
            {"title": "o4", "customer": b, "amount": "20.00", "qty": 4, "ordered_on": "2025-12-31", "status": "paid"},
        ])
    return {"li": li, "han": han, "east": east, "a": a, "b": b}

"""runtime/permissions/overview.py: the permission sets of the flagship laid out per form,
and row filters in words."""
from __future__ import annotations

from runtime.permissions.overview import describe_filter, overview
from tests.support.web import install_flagship


def test_the_flagships_customers_sets(db):
    app = install_flagship(db)
    sets = overview(app, "zh")
    assert sets.admins == ("crm_manager",)
    assert {"sales", "sales_manager", "finance", "crm_manager"} <= sets.role_keys
    customers = next(f for f in sets.forms if f.form_key == "customers")
    by_key = {e.set_key: e for e in customers.entries}
    assert by_key["sales"].actions == ("view", "create", "edit", "delete", "history")
    assert by_key["sales"].filter_text == "负责销售 = 当前用户 或 提交人 = 当前用户"
    assert by_key["sales_manager"].filter_text == "负责销售 ∈ 我的部门及下级部门 或 提交人 = 当前用户"
    assert "export" in by_key["sales_manager"].actions
    finance = by_key["finance"]
    assert finance.actions == ("view", "history") and finance.filter_text == "全部记录"
    assert "客户名称" in finance.visible and "备注" in finance.hidden


def test_filters_in_english_and_nested(db):
    app = install_flagship(db)
    form = app.require_form("customers")
    spec = {"and": [{"field": "level", "op": "in", "value": ["vip", "key"]},
                    {"not": {"field": "owner", "op": "is_empty"}}, {"formula": "score > 3"}]}
    assert describe_filter(spec, form, "en") == "Level ∈ [“vip”, “key”] and not Account owner ∅ and formula: score > 3"

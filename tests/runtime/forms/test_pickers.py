"""The form page's pickers (runtime/forms/pickers.py): records of a relation's target
searched within the actor's scope (one statement a page), members, departments, and
the address cascader's divisions, which the address field accepts as they come."""
from __future__ import annotations

import pytest

from engine.compiled.app import compile_app
from engine.errors import NotFound
from engine.fields.base import ValueContext
from engine.fields.divisions import divisions
from runtime.actor import Actor
from runtime.forms.pickers import (PickerError, division_children, search_departments, search_members,
                                   search_records)
from runtime.permissions import FULL, FormAccess
from runtime.session import Session
from tests.support.forms_app import desk_app, install_desk

CLERK = Actor(user_id=7)


class OwnCustomers:
    def access(self, app, form, actor):
        if form.key != "customers" or actor.user_id != CLERK.user_id:
            return FULL
        return FormAccess(row_scope=app.tables.form_table(form.key).c.owner_id == actor.user_id)


@pytest.fixture
def desk(db):
    install_desk(db)
    policy = OwnCustomers()
    admin, clerk = Session(db, policy=policy), Session(db, CLERK, policy=policy)
    admin.write(lambda uow: uow.records("desk").bulk_create(
        "customers", [{"name": f"华东客户{i}"} for i in range(5)] + [{"name": "华南客户"}]))
    clerk.write(lambda uow: uow.records("desk").bulk_create(
        "customers", [{"name": f"我的华东{i}"} for i in range(3)]))
    return db, admin, clerk


def _titles(result):
    return [r["title"] for r in result["records"]]


def test_record_search_by_text_newest_first_and_keyset_paged(desk, count_statements):
    db, admin, _clerk = desk
    with admin.read() as uow:
        uow.records("desk")
        with count_statements(db) as counted:
            first = search_records(uow, "desk", "orders", "customer", "华东", limit=4)
        second = search_records(uow, "desk", "orders", "customer", "华东", limit=4, cursor=first["next_cursor"])
    assert counted.count == 1
    assert _titles(first) == ["我的华东2", "我的华东1", "我的华东0", "华东客户4"]
    assert _titles(second) == ["华东客户3", "华东客户2", "华东客户1", "华东客户0"] and second["next_cursor"] is None
    assert all(set(r) == {"id", "title"} for r in first["records"])


def test_record_search_stays_within_the_actors_scope(desk):
    _db, _admin, clerk = desk
    with clerk.read() as uow:
        assert _titles(search_records(uow, "desk", "orders", "customer", "华")) == \
            ["我的华东2", "我的华东1", "我的华东0"]
        assert _titles(search_records(uow, "desk", "orders", "customer", "华南")) == []


@pytest.mark.parametrize("text", ["", None, "%", "_", "'; DROP TABLE x; --", "字" * 5000, "🚀"])
def test_odd_search_texts_are_plain_text(desk, text):
    _db, admin, _clerk = desk
    with admin.read() as uow:
        found = search_records(uow, "desk", "orders", "customer", text, limit="many")
    assert len(found["records"]) == (9 if not text else 0)      # "many" is no page size: the default, 20


def test_search_on_a_field_that_is_not_a_relation(desk):
    _db, admin, _clerk = desk
    with admin.read() as uow:
        with pytest.raises(PickerError) as refused:
            search_records(uow, "desk", "orders", "title", "x")
        assert refused.value.message("zh") == "表单“orders”的字段“title”不是关联字段，没有可选的关联记录"
        with pytest.raises(NotFound, match="has no field 'nope'"):
            search_records(uow, "desk", "orders", "nope", "x")


def test_members_and_departments(desk):
    _db, admin, _clerk = desk
    with admin.write() as uow:
        li = uow.org.users.add("li.lei", "李雷", email="li@example.com")
        uow.org.users.add("han.meimei", "韩梅梅")
        sales = uow.org.departments.create("销售部")
        uow.org.departments.create("华东组", parent=sales)
        uow.org.departments.create("研发部")
    with admin.read() as uow:
        assert search_members(uow, "李") == {"members": [{"id": li.id, "name": "李雷", "account": "li.lei"}],
                                             "total": 1}
        assert search_members(uow, "")["total"] == 2
        found = search_departments(uow, "销售")
        assert [d["path"] for d in found["departments"]] == ["销售部", "销售部/华东组"]
        assert [d["name"] for d in search_departments(uow, "华东")["departments"]] == ["华东组"]


def test_divisions_cascade_by_code():
    provinces = division_children()
    assert provinces["path"] == [] and len(provinces["children"]) == len(divisions().provinces)
    guangdong = division_children("440000")
    assert guangdong["path"] == [{"code": "440000", "name": "广东省"}]
    assert {"code": "440300", "name": "深圳市", "leaf": False} in guangdong["children"]
    shenzhen = division_children("440000", "440300")
    assert {"code": "440305", "name": "南山区", "leaf": True} in shenzhen["children"]
    beijing = division_children("110000")
    assert beijing["children"] == [{"code": "110000", "name": "北京市", "leaf": False}]
    assert {"code": "110101", "name": "东城区", "leaf": True} in division_children("110000", "110000")["children"]
    for codes in (("999999",), ("440000", "110100"), ("abc",)):
        with pytest.raises(NotFound, match="6-digit"):
            division_children(*codes)


def test_the_address_field_accepts_what_the_cascader_offers():
    address = compile_app(desk_app()).types.of(desk_app().require_form("everything").field("address"))
    ctx = ValueContext()
    for province in division_children()["children"]:
        for city in division_children(province["code"])["children"]:
            value = address.clean({"province": province["name"], "city": city["name"]}, ctx)
            assert (value["province"], value["city"]) == (province["name"], city["name"])

"""The record page: the record with display values and subform rows, the tabs of the
records pointing at it (counts in one statement, within the reader's scope), a page per
tab, the history for people, and an edit conflict that says who changed what."""
from __future__ import annotations

import json

import pytest

from engine.errors import ConflictError, NotFound
from runtime.permissions import FULL, FULL_ACCESS, FormAccess
from runtime.record_page import EditConflict, RecordPage, RelatedTabUnknown
from tests.support.record_pages_app import Salesperson, install_crm


@pytest.fixture
def crm(db):
    return install_crm(db)


def _setup(crm, orders=3, visits=2):
    """明达 (李雷's) with orders and visits pointing at it; 韩's customer with one visit."""
    with crm.engine.begin() as conn:
        li = crm.records(conn, crm.li, FULL_ACCESS)
        han = crm.records(conn, crm.han, FULL_ACCESS)
        minda = li.create("customers", {"name": "上海明达科技", "level": "vip", "owner": crm.li.user_id,
                                        "dept": crm.dept_id, "note": "秘密备注"})
        other = han.create("customers", {"name": "韩的客户"})
        li.bulk_create("orders", [{"title": f"订单{i}", "customer": minda["id"],
                                   "items": [{"product": "服务器", "qty": 1}, {"product": "交换机", "qty": 3}]}
                                  for i in range(orders)])
        li.bulk_create("visits", [{"summary": f"拜访{i}", "customers": [minda["id"]]} for i in range(visits)])
        han.create("visits", {"summary": "共同拜访", "customers": [minda["id"], other["id"]]})
    return minda["id"], other["id"]


def test_the_record_with_every_visible_field_and_its_tabs(crm):
    minda, _ = _setup(crm)
    with crm.engine.connect() as conn:
        page = RecordPage(crm.records(conn, crm.li)).view("customers", minda)
    record = page["record"]
    assert record["display"]["level"] == "重要客户" and record["display"]["owner"] == "李雷"
    assert record["created_by"] == {"id": crm.li.user_id, "name": "李雷"}
    assert [f["key"] for f in page["fields"]] == ["name", "level", "owner", "dept", "credit"]
    assert [f["editable"] for f in page["fields"]] == [True, False, True, True, True]
    assert "秘密" not in json.dumps(page, ensure_ascii=False)
    assert [(t["key"], t["count"]) for t in page["tabs"]] == [("orders.customer", 3), ("visits.customers", 3)]
    assert page["can"] == {"edit": True, "delete": True, "history": True}


def test_subform_rows_are_shown(crm):
    minda, _ = _setup(crm, orders=1)
    with crm.engine.connect() as conn:
        records = crm.records(conn)
        order = records.list("orders").records[0]
        page = RecordPage(records).view("orders", order["id"])
    rows = page["record"]["subforms"]["items"]
    assert [r["display"] for r in rows] == [{"product": "服务器", "qty": "1"}, {"product": "交换机", "qty": "3"}]
    assert page["record"]["display"]["items"] == "2 行"
    assert next(f for f in page["fields"] if f["key"] == "items")["columns"][1]["label"] == "数量"
    assert {f["key"]: f["editable"] for f in page["fields"]}["customer_level"] is False   # a lookup


def test_tab_counts_are_one_statement_and_respect_the_scope_of_the_other_form(crm, count_statements):
    minda, _ = _setup(crm)

    class OwnVisits:
        """Visits: only those the reader created (customers and orders: all)."""
        def access(self, app, form, actor):
            if form.key != "visits":
                return FULL
            return FormAccess.limited(form, row_scope=app.tables.form_table("visits").c.created_by == actor.user_id)

    with crm.engine.connect() as conn:
        records = crm.records(conn, crm.li, OwnVisits())
        page = RecordPage(records)
        page.view("customers", minda)      # asks the policy once per form
        with count_statements(crm.engine) as counter:
            from_the_page = page.view("customers", minda)["tabs"]
        tabs_only = [s for s in counter.statements if "count(" in s.lower()]
        assert len(tabs_only) == 1
        assert [(t["key"], t["count"]) for t in from_the_page] == [("orders.customer", 3), ("visits.customers", 2)]
        listed = page.related("customers", minda, "visits", "customers")
        assert sorted(r["display"]["summary"] for r in listed["rows"]) == ["拜访0", "拜访1"]
        assert listed["count"]["value"] == 2 and listed["tab"] == "visits.customers"


def test_a_tab_of_a_form_or_field_the_reader_may_not_see_is_absent(crm):
    minda, _ = _setup(crm)

    class NoVisitsNoCustomerField:
        def access(self, app, form, actor):
            if form.key == "visits":
                return FormAccess.limited(form, actions={"create"})
            if form.key == "orders":
                return FormAccess.limited(form, visible=["title", "items"])
            return FULL
    with crm.engine.connect() as conn:
        page = RecordPage(crm.records(conn, crm.li, NoVisitsNoCustomerField()))
        assert page.view("customers", minda)["tabs"] == []
        with pytest.raises(RelatedTabUnknown):
            page.related("customers", minda, "visits", "customers")
        with pytest.raises(RelatedTabUnknown):
            page.related("customers", minda, "orders", "title")


def test_related_pages_are_keyset_paged(crm):
    minda, _ = _setup(crm, orders=5)
    with crm.engine.connect() as conn:
        page = RecordPage(crm.records(conn))
        first = page.related("customers", minda, "orders", "customer", limit=3)
        rest = page.related("customers", minda, "orders", "customer", limit=3, cursor=first["next_cursor"])
    titles = [r["display"]["title"] for r in first["rows"] + rest["rows"]]
    assert sorted(titles) == [f"订单{i}" for i in range(5)] and rest["next_cursor"] is None


def test_a_record_outside_the_scope_is_not_found(crm):
    _, theirs = _setup(crm)
    with crm.engine.connect() as conn:
        page = RecordPage(crm.records(conn, crm.li, Salesperson()))
        for call in (lambda: page.view("customers", theirs), lambda: page.history("customers", theirs),
                     lambda: page.related("customers", theirs, "orders", "customer")):
            with pytest.raises(NotFound):
                call()


def test_history_for_people(crm):
    minda, _ = _setup(crm)
    with crm.engine.begin() as conn:
        crm.records(conn, crm.han, FULL_ACCESS).update("customers", minda, {
            "level": "normal", "owner": crm.han.user_id, "note": "新的秘密"})
    with crm.engine.connect() as conn:
        zh = RecordPage(crm.records(conn, crm.li)).history("customers", minda)
        en = RecordPage(crm.records(conn, crm.li, lang="en")).history("customers", minda)
    latest = zh[0]
    assert latest["user"] == {"id": crm.han.user_id, "name": "韩梅梅"} and latest["action"] == "update"
    assert [(c["label"], c["from_display"], c["to_display"]) for c in latest["changes"]] == [
        ("等级", "重要客户", "普通客户"), ("负责人", "李雷", "韩梅梅")]
    assert [c["label"] for c in en[0]["changes"]] == ["Level", "Owner"]
    assert en[0]["changes"][0]["to_display"] == "Regular"
    created = zh[-1]
    assert created["action_label"] == "创建" and {"label": "部门"}.items() <= next(
        c for c in created["changes"] if c["field"] == "dept").items()
    assert next(c for c in created["changes"] if c["field"] == "dept")["to_display"] == "华东销售部"
    assert "秘密" not in json.dumps(zh, ensure_ascii=False)


def test_history_shows_related_titles(crm):
    minda, other = _setup(crm, orders=1)
    with crm.engine.begin() as conn:
        records = crm.records(conn)
        order = records.list("orders").records[0]
        records.update("orders", order["id"], {"customer": other})
        entries = RecordPage(records).history("orders", order["id"])
    change = next(c for c in entries[0]["changes"] if c["field"] == "customer")
    assert (change["from_display"], change["to_display"]) == ("上海明达科技", "韩的客户")


def test_an_edit_conflict_says_who_changed_what_and_when(crm):
    minda, _ = _setup(crm)
    with crm.engine.connect() as conn:
        seen = RecordPage(crm.records(conn, crm.li)).view("customers", minda)["record"]["version"]
    with crm.engine.begin() as conn:
        crm.records(conn, crm.han, FULL_ACCESS).update("customers", minda, {"credit": 9, "note": "x"})
    with crm.engine.begin() as conn:
        page = RecordPage(crm.records(conn, crm.li))
        with pytest.raises(EditConflict) as conflict:
            page.edit("customers", minda, {"name": "明达"}, version=seen)
        assert isinstance(conflict.value, ConflictError)
        zh, en = conflict.value.message("zh"), conflict.value.message("en")
        assert "韩梅梅" in zh and "额度" in zh and "备注" not in zh
        assert "Credit" in en and f"version {seen}" in en and "Note" not in en
        shown = conflict.value.as_dict("en")
        assert shown["current_version"] == seen + 1 and shown["changes"][0]["user"]["name"] == "韩梅梅"
        done = page.edit("customers", minda, {"name": "明达"}, version=seen + 1)
        assert done["record"]["display"]["name"] == "明达" and done["record"]["version"] == seen + 2


def test_the_page_and_its_history_cost_the_same_whatever_their_size(crm, count_statements):
    small, _ = _setup(crm, orders=2, visits=1)
    big, _ = _setup(crm, orders=40, visits=30)
    used = {}
    for rid, updates in ((small, 2), (big, 30)):
        with crm.engine.begin() as conn:
            records = crm.records(conn, crm.li, FULL_ACCESS)
            for i in range(updates):
                records.update("customers", rid, {"credit": i + 1, "owner": crm.han.user_id if i % 2 else crm.li.user_id})
        with crm.engine.connect() as conn:
            page = RecordPage(crm.records(conn, crm.li))
            page.view("customers", rid)       # asks the policy once per form
            with count_statements(crm.engine) as counter:
                page.view("customers", rid)
                entries = page.history("customers", rid)
            assert len(entries) == updates + 1
            used[updates] = counter.count
    assert used[2] == used[30], used

"""The data-table page: display values in the reader's language, a capped count, the
reader's view, hidden fields and rows outside the scope never shown, and a statement
count that does not grow with the page."""
from __future__ import annotations

import json

import pytest

from runtime.records import service
from runtime.records.service import Count
from runtime.views import DataTable, SavedViews, ViewError, count_json
from tests.support.record_pages_app import install_crm


def _fill(crm, orders: int):
    """Two customers of 李雷, one of 韩梅梅; `orders` orders of 明达, each with two tags
    and an item. Returns the customers' ids by name."""
    with crm.engine.begin() as conn:
        records = crm.records(conn)
        made = records.bulk_create("customers", [
            {"name": "上海明达科技", "level": "vip", "owner": crm.li.user_id, "dept": crm.dept_id, "note": "秘密甲"},
            {"name": "北京远航", "level": "normal", "owner": crm.li.user_id, "note": "秘密乙"},
            {"name": "韩的客户", "level": "vip", "owner": crm.han.user_id, "note": "秘密丙"}])
        ids = {r["fields"]["name"]: r["id"] for r in made}
        # Rows owned by 李雷 (the row scope reads owner_id, who created them).
        conn.execute(records.tables.form_table("customers").update()
                     .where(records.tables.form_table("customers").c.id.in_(list(ids.values())[:2]))
                     .values(owner_id=crm.li.user_id))
        conn.execute(records.tables.form_table("customers").update()
                     .where(records.tables.form_table("customers").c.id == ids["韩的客户"])
                     .values(owner_id=crm.han.user_id))
        tags = [r["id"] for r in records.bulk_create("tags", [{"name": "急"}, {"name": "大单"}])]
        if orders:
            records.bulk_create("orders", [
                {"title": f"订单{i:03d}", "customer": ids["上海明达科技"], "tags": tags,
                 "items": [{"product": "服务器", "qty": 2}]} for i in range(orders)])
    return ids


@pytest.fixture
def crm(db):
    return install_crm(db)


def test_a_page_shows_display_values_in_the_readers_language(crm):
    ids = _fill(crm, 3)
    with crm.engine.connect() as conn:
        zh = DataTable(crm.records(conn, lang="zh")).page("customers", sort="name")
        en = DataTable(crm.records(conn, lang="en")).page("customers", sort="name")
        orders = DataTable(crm.records(conn)).page("orders", limit=2)
    row = next(r for r in zh["rows"] if r["id"] == ids["上海明达科技"])
    assert row["display"]["level"] == "重要客户" and row["values"]["level"] == "vip"
    assert row["display"]["owner"] == "李雷" and row["display"]["dept"] == "华东销售部"
    assert next(r for r in en["rows"] if r["id"] == ids["上海明达科技"])["display"]["level"] == "VIP"
    assert [c["label"] for c in en["columns"]][:2] == ["Name", "Level"]
    assert zh["count"] == {"value": 3, "exact": True, "estimated": False, "text": "3"}
    first = orders["rows"][0]
    assert first["display"]["customer"] == "上海明达科技"
    assert first["links"]["customer"] == [{"id": ids["上海明达科技"], "title": "上海明达科技", "deleted": False}]
    assert first["display"]["tags"] == "急、大单"
    assert first["display"]["customer_level"] == "重要客户"
    assert first["subforms"]["items"][0]["display"] == {"product": "服务器", "qty": "2"}
    assert orders["next_cursor"] and orders["count"]["value"] == 3
    json.dumps(orders)      # JSON-safe as it is


def test_the_count_says_when_it_is_capped(crm, monkeypatch):
    _fill(crm, 7)
    monkeypatch.setattr(service, "COUNT_CAP", 5)
    with crm.engine.connect() as conn:
        page = DataTable(crm.records(conn)).page("orders", limit=2)
        assert page["count"]["text"] == "5+" and not page["count"]["exact"]
        assert DataTable(crm.records(conn)).page("orders", cursor=page["next_cursor"])["count"] is None
        assert DataTable(crm.records(conn)).page("orders", count="none")["count"] is None
        with pytest.raises(ViewError) as refused:
            DataTable(crm.records(conn)).page("orders", count="exact")
        assert refused.value.code == "table_count_invalid"


def test_count_texts():
    assert count_json(Count(10_000, exact=False))["text"] == "10,000+"
    assert count_json(Count(1_234_567, exact=False, estimated=True))["text"] == "≈1,234,567"
    assert count_json(Count(42, exact=True))["text"] == "42"
    assert count_json(None) is None


def test_statements_do_not_grow_with_the_page(crm, count_statements):
    _fill(crm, 200)
    used = {}
    for limit in (10, 200):
        with crm.engine.connect() as conn:
            table = DataTable(crm.records(conn, crm.li))
            with count_statements(crm.engine) as counter:
                page = table.page("orders", limit=limit)
            assert len(page["rows"]) == limit
            used[limit] = counter.count
    assert used[10] == used[200] <= 6, used


def test_the_readers_default_view_and_explicit_overrides(crm):
    ids = _fill(crm, 0)
    with crm.engine.begin() as conn:
        records = crm.records(conn, crm.li)
        SavedViews(records).create("customers", "VIP", filter={"field": "level", "op": "eq", "value": "vip"},
                                   columns=["name", "owner"], default=True)
        table = DataTable(records)
        page = table.page("customers", view="default")
        assert page["view"]["name"] == "VIP" and [r["id"] for r in page["rows"]] == [ids["上海明达科技"]]
        assert [c["key"] for c in page["columns"]] == ["name", "owner"]
        assert set(page["rows"][0]["values"]) == {"name", "owner"}
        wider = table.page("customers", view="default", filter=None, columns=["name", "level", "created_at"])
        assert [c["key"] for c in wider["columns"]] == ["name", "level", "created_at"]
        assert len(table.page("customers")["rows"]) == 2       # no view: the reader's scope
        with pytest.raises(ViewError) as refused:
            table.page("customers", columns=["name", "nmae"])
        assert refused.value.code == "view_column_unknown"


def test_hidden_fields_and_rows_outside_the_scope_are_never_shown(crm):
    ids = _fill(crm, 0)
    with crm.engine.connect() as conn:
        table = DataTable(crm.records(conn, crm.li))
        page = table.page("customers")
        text = json.dumps(page, ensure_ascii=False)
        assert "秘密" not in text and '"note"' not in text
        assert {r["id"] for r in page["rows"]} == {ids["上海明达科技"], ids["北京远航"]}
        assert page["count"]["value"] == 2
        assert table.page("customers", search="韩的")["rows"] == []
        with pytest.raises(ViewError) as refused:
            table.page("customers", columns=["name", "note"])
        assert refused.value.code == "view_column_hidden"
        with pytest.raises(ViewError):
            table.page("customers", filter={"field": "note", "op": "contains", "value": "秘"})


def test_unicode_search(crm):
    ids = _fill(crm, 0)
    with crm.engine.connect() as conn:
        page = DataTable(crm.records(conn)).page("customers", search="明达")
    assert [r["id"] for r in page["rows"]] == [ids["上海明达科技"]]


def test_names_of_members_and_departments_cost_one_query_each_for_the_page(crm, count_statements):
    with crm.engine.begin() as conn:
        crm.records(conn).bulk_create("customers", [
            {"name": f"客户{i:03d}", "level": "vip", "owner": (crm.li, crm.han)[i % 2].user_id,
             "dept": crm.dept_id} for i in range(200)])
    used = {}
    for limit in (10, 200):
        with crm.engine.connect() as conn:
            table = DataTable(crm.records(conn, lang="en"))
            with count_statements(crm.engine) as counter:
                page = table.page("customers", limit=limit, columns=["name", "level", "owner", "dept"])
            assert {r["display"]["owner"] for r in page["rows"]} == {"李雷", "韩梅梅"}
            assert {r["display"]["level"] for r in page["rows"]} == {"VIP"}
            used[limit] = counter.count
    assert used[10] == used[200] == 4, used      # page, count, users, departments

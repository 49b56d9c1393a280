from decimal import Decimal

import pytest

from engine.errors import ConflictError, IntegrityProblem, NotFound, RecordValidationError
from runtime.actor import Actor
from runtime.records import BulkValidationError, Records
from tests.support.records_app import install_shop


@pytest.fixture
def shop(db):
    app = install_shop(db)
    return db, app


def issues_of(exc):
    return {(i.field, i.code, i.row, i.subfield) for i in exc.value.issues}


def test_create_and_get_with_defaults(shop):
    db, app = shop
    with db.begin() as conn:
        rec = Records(conn, app).create("customers", {"name": " 张三 ", "code": "C1"})
    assert rec["fields"]["name"] == "张三"
    assert rec["fields"]["credit"] == Decimal("100.00")
    assert rec["version"] == 1
    with db.connect() as conn:
        again = Records(conn, app).get("customers", rec["id"])
    assert again["fields"] == rec["fields"]


def test_every_field_error_reported_at_once(shop):
    db, app = shop
    with db.begin() as conn, pytest.raises(RecordValidationError) as exc:
        Records(conn, app).create("customers", {"credit": "-5", "code": "x" * 30, "nmae": "a"})
    assert issues_of(exc) == {
        ("name", "required", None, None), ("credit", "number_too_small", None, None),
        ("code", "text_too_long", None, None), ("nmae", "unknown_field", None, None)}
    shape = exc.value.as_dict("en")
    unknown = next(i for i in shape["issues"] if i["field"] == "nmae")
    assert "did you mean 'name'" in unknown["message_en"]


def test_unique_is_checked_with_a_friendly_error_and_frees_on_delete(shop):
    db, app = shop
    with db.begin() as conn:
        r = Records(conn, app)
        first = r.create("customers", {"name": "A", "code": "DUP"})
        with pytest.raises(RecordValidationError) as exc:
            r.create("customers", {"name": "B", "code": "DUP"})
        assert issues_of(exc) == {("code", "unique", None, None)}
        with pytest.raises(BulkValidationError) as bulk:
            r.bulk_create("customers", [{"name": "C", "code": "NEW"}, {"name": "D", "code": "NEW"}])
        assert set(bulk.value.by_index) == {1}
        r.delete("customers", first["id"])
        second = r.create("customers", {"name": "B", "code": "DUP"})
        with pytest.raises(BulkValidationError):
            r.restore("customers", first["id"])   # its code is used again meanwhile
        assert second["fields"]["code"] == "DUP"


def test_update_with_optimistic_version_and_history(shop):
    db, app = shop
    with db.begin() as conn:
        r = Records(conn, app, actor=Actor(user_id=5))
        rec = r.create("customers", {"name": "甲", "code": "H1"})
        updated = r.update("customers", rec["id"], {"credit": "2,500.5"}, expected_version=1)
        assert updated["version"] == 2 and updated["fields"]["credit"] == Decimal("2500.50")
        with pytest.raises(ConflictError) as conflict:
            r.update("customers", rec["id"], {"name": "乙"}, expected_version=1)
        assert "version 1" in str(conflict.value) and "now version 2" in str(conflict.value)
        same = r.update("customers", rec["id"], {"credit": "2500.50"})
        assert same["version"] == 2      # nothing changed: no new version
        log = r.history("customers", rec["id"])
    assert [h["action"] for h in log] == ["create", "update"]
    assert log[1]["changes"] == {"credit": {"from": "100.00", "to": "2500.50"}}
    assert log[1]["user_id"] == 5


def test_required_field_cannot_be_cleared(shop):
    db, app = shop
    with db.begin() as conn:
        r = Records(conn, app)
        rec = r.create("customers", {"name": "甲"})
        with pytest.raises(RecordValidationError) as exc:
            r.update("customers", rec["id"], {"name": "  "})
    assert issues_of(exc) == {("name", "required", None, None)}


def test_relations_lookups_and_subforms_round_trip(shop):
    db, app = shop
    with db.begin() as conn:
        r = Records(conn, app)
        cust = r.create("customers", {"name": "王五", "code": "W5"})
        t1, t2 = r.bulk_create("tags", [{"name": "新"}, {"name": "大"}])
        order = r.create("orders", {"title": "O1", "customer": cust["id"], "tags": [t2["id"], t1["id"]],
                                    "amount": 99.9, "items": [{"product": "笔", "qty": 2},
                                                              {"product": "纸", "qty": "3"}]})
    f = order["fields"]
    assert f["customer"] == cust["id"] and f["customer_code"] == "W5"
    assert f["tags"] == [t2["id"], t1["id"]]
    assert [(i["product"], i["qty"]) for i in f["items"]] == [("笔", Decimal(2)), ("纸", Decimal(3))]
    assert order["titles"]["customer"][cust["id"]] == {"title": "王五", "deleted": False}
    with db.begin() as conn:
        r = Records(conn, app)
        changed = r.update("orders", order["id"], {"items": [{"product": "墨", "qty": 1}], "tags": []})
        log = r.history("orders", order["id"])
    assert [i["product"] for i in changed["fields"]["items"]] == ["墨"]
    assert changed["fields"]["tags"] == []
    assert log[-1]["changes"]["items"]["from"] == [{"product": "笔", "qty": "2"}, {"product": "纸", "qty": "3"}]


def test_subform_cell_errors_name_row_and_column(shop):
    db, app = shop
    with db.begin() as conn, pytest.raises(RecordValidationError) as exc:
        Records(conn, app).create("orders", {"title": "x", "items": [
            {"product": "ok", "qty": 1}, {"qty": 0}, {"product": "p", "colour": "red"}]})
    assert issues_of(exc) == {("items", "required", 1, "product"), ("items", "number_too_small", 1, "qty"),
                              ("items", "subform_unknown_column", 2, "colour")}


def test_missing_references_are_refused(shop):
    db, app = shop
    with db.begin() as conn, pytest.raises(RecordValidationError) as exc:
        Records(conn, app).create("orders", {"title": "x", "customer": 999, "tags": [998]})
    assert issues_of(exc) == {("customer", "relation_missing", None, None),
                              ("tags", "relation_missing", None, None)}


def test_delete_restrict_cascade_and_purge(shop):
    db, app = shop
    with db.begin() as conn:
        r = Records(conn, app)
        cust = r.create("customers", {"name": "C"})
        tag = r.create("tags", {"name": "T"})
        friend = r.create("customers", {"name": "F", "referrer": cust["id"]})
        order = r.create("orders", {"title": "O", "customer": cust["id"], "tags": [tag["id"]]})
        with pytest.raises(IntegrityProblem, match="on_delete: restrict"):
            r.delete("customers", cust["id"])
        r.delete("orders", order["id"])
        r.delete("customers", cust["id"])   # only deleted orders refer to it now
        assert r.get("customers", friend["id"])["titles"]["referrer"][cust["id"]]["deleted"] is True
        with pytest.raises(NotFound, match="recycle bin"):
            r.get("customers", cust["id"])
        assert r.list("customers", deleted=True).count.value == 1
        r.restore("customers", cust["id"])
        r.delete("tags", tag["id"])
        r.purge("tags", tag["id"])
        r.restore("orders", order["id"])
        assert r.get("orders", order["id"])["fields"]["tags"] == []
        with pytest.raises(NotFound, match="delete them first"):
            r.purge("customers", cust["id"])


def test_list_filter_sort_search_and_keyset_pages(shop):
    db, app = shop
    with db.begin() as conn:
        r = Records(conn, app)
        r.bulk_create("customers", [{"name": f"客户{i:02d}", "credit": i % 7, "code": f"K{i}"}
                                    for i in range(30)] + [{"name": "空额度", "credit": None}])
        page = r.list("customers", filter={"and": [{"field": "credit", "op": "gte", "value": 3},
                                                   {"field": "name", "op": "contains", "value": "客户"}]},
                      sort=[{"field": "credit", "dir": "desc"}], page_size=4)
        assert page.count.value == 16 and page.count.exact
        seen = [rec["fields"]["name"] for rec in page.records]
        while page.next_cursor:
            page = r.list("customers", filter={"field": "credit", "op": "gte", "value": 3},
                          sort=[{"field": "credit", "dir": "desc"}], page_size=4, cursor=page.next_cursor)
            seen += [rec["fields"]["name"] for rec in page.records]
        assert len(seen) == len(set(seen)) == 16
        # ascending with an empty value, across pages of 3
        names = []
        page = r.list("customers", sort="credit", page_size=3)
        names += [x["fields"]["credit"] for x in page.records]
        while page.next_cursor:
            page = r.list("customers", sort="credit", page_size=3, cursor=page.next_cursor)
            names += [x["fields"]["credit"] for x in page.records]
        assert len(names) == 31
        numbers = [n for n in names if n is not None]
        assert numbers == sorted(numbers)
        assert r.list("customers", search="空额").count.value == 1

"""Hostile values: SQL metacharacters, unicode, huge strings, odd filters."""
import pytest

from engine.errors import RecordValidationError
from engine.query.filters import FilterError
from runtime.records import Records
from tests.support.records_app import install_shop

NASTY = [
    "'; DROP TABLE shop__customers; --",
    'Robert"); DELETE FROM fw_users; --',
    "%_\\%",
    "名字🙂\u200b𠀀",
    "null", "NULL", "0x00", "<script>alert(1)</script>",
]


@pytest.fixture
def shop(db):
    return db, install_shop(db)


def test_metacharacters_and_unicode_are_stored_as_given(shop):
    db, app = shop
    with db.begin() as conn:
        r = Records(conn, app)
        created = r.bulk_create("customers", [{"name": v, "note": v * 3} for v in NASTY])
        for value, rec in zip(NASTY, created):
            assert r.get("customers", rec["id"])["fields"]["name"] == value.strip()
            hits = r.list("customers", filter={"field": "name", "op": "eq", "value": value}).records
            assert [h["id"] for h in hits] == [rec["id"]]
        # LIKE wildcards in a search are literal characters
        assert [h["fields"]["name"] for h in r.list("customers", search="%_").records] == ["%_\\%"]
        assert r.list("customers", filter={"field": "name", "op": "starts_with", "value": "%"}).count.value == 1


def test_one_megabyte_text(shop):
    db, app = shop
    big = "长" * 1_000_000
    with db.begin() as conn:
        r = Records(conn, app)
        with pytest.raises(RecordValidationError) as exc:
            r.create("customers", {"name": big})       # text defaults to 200 characters
        assert exc.value.issues[0].code == "text_too_long"
        rec = r.create("customers", {"name": "大", "note": "备" * 20000})
        assert len(r.get("customers", rec["id"])["fields"]["note"]) == 20000
        with pytest.raises(RecordValidationError):
            r.create("customers", {"name": "大", "note": big + "x"})


@pytest.mark.parametrize("bad, where", [
    ({"field": "nmae", "op": "eq", "value": 1}, "did you mean 'name'"),
    ({"field": "name", "op": "gtx", "value": 1}, "filter.op"),
    ({"field": "credit", "op": "gt", "value": "abc"}, "filter.value"),
    ({"and": [{"field": "name", "op": "eq", "value": "a"}, {"or": "x"}]}, "filter.and[1].or"),
    ({"field": "credit", "op": "between", "value": [1]}, "give [low, high]"),
    ({"field": "name", "op": "in", "value": "a"}, "give a list"),
    ({"field": "name", "op": "eq", "value": "a", "vaule": 2}, "unknown key"),
    ("x", "expected an object"),
])
def test_bad_filters_say_where(shop, bad, where):
    db, app = shop
    with db.connect() as conn, pytest.raises(FilterError) as exc:
        Records(conn, app).list("customers", filter=bad)
    assert where in str(exc.value)


def test_deeply_nested_filter_is_refused(shop):
    db, app = shop
    spec = {"field": "name", "op": "eq", "value": "a"}
    for _ in range(20):
        spec = {"and": [spec]}
    with db.connect() as conn, pytest.raises(FilterError, match="nest"):
        Records(conn, app).list("customers", filter=spec)

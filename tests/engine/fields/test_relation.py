"""Relation (single and multiple, with on-delete behaviour), lookup and subform."""
from datetime import date
from decimal import Decimal

import pytest

from engine.errors import IntegrityProblem, RecordValidationError
from engine.fields import ValueContext
from engine.fields.relation import parse_record_id
from engine.query.filters import FilterError
from tests.support.fields import CTX, Lab, L, make, problem_at, refused, valid_definition

TYPES = {"relation", "lookup", "subform"}


@pytest.mark.parametrize("raw", [5, "5", " #5 ", {"id": 5, "title": "甲"}, 5.0])
def test_record_ids(raw):
    assert parse_record_id(raw) == 5


@pytest.mark.parametrize("raw", ["甲公司", 0, -3, True, 2 ** 63, 5.5, [5], None])
def test_what_is_not_a_record_id(raw):
    refused(make("relation", target="customers"), raw, "relation_invalid", zh=["记录的数字编号"],
            en=["not a record id"])


def test_multiple_relations():
    tags = make("relation", target="tags", multiple=True, max=2)
    assert tags.clean([3, "#4", {"id": 3}], CTX) == [3, 4]
    assert tags.parse_text("3，4", CTX) == [3, 4]
    refused(tags, [1, 2, 3], "relation_too_many", zh=["最多关联 2 条", "3"], en=["At most 2", "got 3"])
    assert tags.references([3, 4]).target == "tags" and tags.storage == "link_table"
    assert make("relation", target="customers").storage == "column"
    assert tags.display([3, 9], ValueContext(titles={"f": {3: "VIP"}})) == "VIP, #9"


def test_lookups_and_subforms_are_not_typed_in():
    refused(make("lookup", relation="customer", field="level"), "vip", "lookup_read_only",
            zh=["关联记录"], en=["cannot be set"])
    rows = make("subform", min_rows=1, max_rows=2, fields=[{"key": "qty", "type": "number", "label": L("数量")}])
    assert rows.clean([{"qty": 1}], CTX) == [{"qty": 1}]
    refused(rows, {"qty": 1}, "subform_invalid", zh=["行的列表"], en=["list of rows"])
    refused(rows, [{"qty": 1}, "第二行"], "subform_row_invalid", zh=["第 2 行"], en=["Row 2"])
    refused(rows, [], "subform_too_few", zh=["至少需要 1 行"], en=["at least 1, got 0"])
    refused(rows, None, "subform_too_few")
    assert make("subform", fields=[{"key": "qty", "type": "number", "label": L("数量")}]).is_empty([])
    refused(rows, [{}, {}, {}], "subform_too_many", zh=["最多 2 行", "3"], en=["At most 2 rows, got 3"])
    assert rows.display([{}, {}], CTX) == "2 行"


CUSTOMERS = {"key": "customers", "label": L("客户", "Customers"), "title_field": "name", "fields": [
    {"key": "name", "type": "text", "label": L("名称", "Name"), "required": True},
    {"key": "level", "type": "select", "label": L("级别", "Level"), "options": ["vip", "普通"]},
    {"key": "referrer", "type": "relation", "label": L("推荐人", "Referrer"), "target": "customers",
     "on_delete": "cascade"},
]}
TAGS = {"key": "tags", "label": L("标签", "Tags"), "title_field": "name", "fields": [
    {"key": "name", "type": "text", "label": L("名称", "Name")}]}
ORDER_FIELDS = [
    {"key": "title", "type": "text", "label": L("标题", "Title")},
    {"key": "customer", "type": "relation", "label": L("客户", "Customer"), "target": "customers",
     "on_delete": "restrict"},
    {"key": "customer_level", "type": "lookup", "label": L("客户级别", "Level"), "relation": "customer",
     "field": "level"},
    {"key": "tags", "type": "relation", "label": L("标签", "Tags"), "target": "tags", "multiple": True, "max": 3},
    {"key": "lines", "type": "subform", "label": L("明细", "Lines"), "min_rows": 1, "max_rows": 3, "fields": [
        {"key": "product", "type": "text", "label": L("产品", "Product"), "required": True},
        {"key": "qty", "type": "number", "label": L("数量", "Qty"), "precision": 0, "min": 1},
        {"key": "ship_on", "type": "date", "label": L("发货日", "Ship on")},
    ]},
]


@pytest.mark.parametrize("field, path, fragment", [
    ({"key": "c", "type": "relation", "label": L("客户"), "target": "customer"}, "forms[0].fields[0].target",
     "not a form of this app"),
    ({"key": "c", "type": "relation", "label": L("客户"), "target": "customers", "max": 3},
     "forms[0].fields[0].max", "only to multiple"),
    ({"key": "c", "type": "relation", "label": L("客户"), "target": "customers", "on_delete": "delete"},
     "forms[0].fields[0].on_delete", ""),
    ({"key": "l", "type": "lookup", "label": L("级别"), "relation": "title", "field": "level"},
     "forms[0].fields[0].relation", "relation field"),
    ({"key": "lines", "type": "subform", "label": L("明细"), "min_rows": 3, "max_rows": 1,
      "fields": [{"key": "p", "type": "text", "label": L("产品")}]}, "forms[0].fields[0].min_rows", "greater than"),
    ({"key": "lines", "type": "subform", "label": L("明细"), "fields": [
        {"key": "c", "type": "relation", "label": L("客户"), "target": "customers"}]},
     "forms[0].fields[0].fields[0].type", "cannot be a column of a subform"),
    ({"key": "lines", "type": "subform", "label": L("明细"), "fields": [
        {"key": "inner", "type": "subform", "label": L("子"),
         "fields": [{"key": "p", "type": "text", "label": L("产品")}]}]},
     "forms[0].fields[0].fields[0].type", "cannot be a column of a subform"),
])
def test_definition_errors(field, path, fragment):
    problem = problem_at([field], path, fragment, forms=[CUSTOMERS])
    if path.endswith(".target"):
        assert problem.suggestion == "customers"


def test_lookup_definition_errors():
    relation = {"key": "customer", "type": "relation", "label": L("客户"), "target": "customers"}
    wrong = problem_at([relation, {"key": "l", "type": "lookup", "label": L("级别"), "relation": "customer",
                                   "field": "levl"}], "forms[0].fields[1].field", "has no field 'levl'",
                       forms=[CUSTOMERS])
    assert wrong.suggestion == "level"
    problem_at([{**relation, "multiple": True}, {"key": "l", "type": "lookup", "label": L("级别"),
                                                 "relation": "customer", "field": "level"}],
               "forms[0].fields[1].relation", "multiple", forms=[CUSTOMERS])
    valid_definition(ORDER_FIELDS, forms=[CUSTOMERS, TAGS])


@pytest.fixture
def shop(db):
    lab = Lab(db, ORDER_FIELDS, forms=[CUSTOMERS, TAGS])
    ming = lab.create("customers", name="明达科技", level="vip")["id"]
    hua = lab.create("customers", name="华兴贸易", level="普通", referrer=ming)["id"]
    red, blue = (lab.create("tags", name=n)["id"] for n in ("红", "蓝"))
    return lab, ming, hua, red, blue


def test_round_trip_with_lookups_and_titles(shop):
    lab, ming, hua, red, blue = shop
    rec = lab.create(title="一号单", customer=f"#{ming}", tags=[blue, red, blue],
                     lines=[{"product": "螺丝", "qty": "1,000", "ship_on": "2025/3/20"}, {"product": "螺母"}])
    got = lab.get(rec["id"])
    assert got["fields"]["customer"] == ming and got["fields"]["customer_level"] == "vip"
    assert got["fields"]["tags"] == [blue, red]                      # order kept, duplicates dropped
    assert [{k: v for k, v in row.items() if k != "id"} for row in got["fields"]["lines"]] == [
        {"product": "螺丝", "qty": Decimal("1000"), "ship_on": date(2025, 3, 20)},
        {"product": "螺母", "qty": None, "ship_on": None}]
    assert got["titles"]["customer"][ming]["title"] == "明达科技"
    updated = lab.update(rec["id"], customer=hua, tags=[red], lines=[{"product": "垫片", "qty": 2}])
    assert updated["fields"]["customer_level"] == "普通" and updated["fields"]["tags"] == [red]
    assert [row["product"] for row in updated["fields"]["lines"]] == ["垫片"]


def test_row_errors_name_the_row_and_column(shop):
    lab, ming, *_ = shop
    with pytest.raises(RecordValidationError) as caught, lab.engine.begin() as conn:
        lab.records(conn).create("items", {"lines": [{"product": "甲", "qty": 0}, {"qty": "abc", "colour": "红"}]})
    issues = {(i.field, i.row, i.subfield, i.code) for i in caught.value.issues}
    assert issues == {("lines", 0, "qty", "number_too_small"), ("lines", 1, "qty", "number_invalid"),
                      ("lines", 1, "product", "required"), ("lines", 1, "colour", "subform_unknown_column")}
    english = {i["subfield"]: i for i in caught.value.as_dict("en")["issues"] if i["row"] == 1}
    assert english["qty"]["message_en"] == "'abc' is not a number"
    assert english["colour"]["message_en"].startswith("The subform has no field 'colour'")
    assert lab.refused({"lines": []}) == {"lines": "subform_too_few"}      # min_rows: 1
    assert lab.refused({"title": "没有明细"}) == {"lines": "subform_too_few"}
    assert lab.refused({"lines": [{"product": "a"}] * 4}) == {"lines": "subform_too_many"}
    line = [{"product": "a"}]
    assert lab.refused({"customer": 999_999, "tags": [999_998], "lines": line}) == {
        "customer": "relation_missing", "tags": "relation_missing"}
    assert lab.refused({"customer_level": "vip", "lines": line}) == {"customer_level": "lookup_read_only"}
    assert lab.refused({"tags": [1, 2, 3, 4], "lines": line}) == {"tags": "relation_too_many"}


def test_filters_on_relations(shop):
    lab, ming, hua, red, blue = shop
    one = lab.create(customer=ming, tags=[red, blue], lines=[{"product": "a"}])["id"]
    two = lab.create(customer=hua, tags=[blue], lines=[{"product": "b"}])["id"]
    three = lab.create(lines=[{"product": "c"}])["id"]
    lab.check_filters("customer", [("eq", ming, [one]), ("contains", f"#{hua}", [two]), ("in", [ming, hua], [one, two]),
                                   ("ne", ming, [two, three]), ("not_in", [hua], [one, three]),
                                   ("empty", None, [three]), ("not_empty", None, [one, two])])
    lab.check_filters("tags", [("contains", red, [one]), ("in", [red, blue], [one, two]), ("eq", blue, [one, two]),
                               ("ne", red, [two, three]), ("not_in", [blue], [three]),
                               ("empty", None, [three]), ("not_empty", None, [one, two])])
    assert [i for i in lab.ids(sort="customer") if i != three] == sorted([one, two], key=lambda i: lab.value(
        i, "customer"))
    with pytest.raises(FilterError, match="not a record id"):
        lab.ids({"field": "customer", "op": "eq", "value": "明达科技"})
    with pytest.raises(FilterError, match="does not support"):
        lab.ids({"field": "customer_level", "op": "eq", "value": "vip"})


def test_on_delete_restrict_set_null_and_cascade(shop):
    lab, ming, hua, red, blue = shop
    order = lab.create(customer=hua, tags=[red, blue], lines=[{"product": "a"}])["id"]
    with lab.engine.begin() as conn, pytest.raises(IntegrityProblem, match="on_delete: restrict"):
        lab.records(conn).delete("customers", hua)
    with lab.engine.begin() as conn:
        records = lab.records(conn)
        records.delete("tags", red)                      # set_null: the link waits for the purge
        assert records.get("items", order)["fields"]["tags"] == [red, blue]
        records.purge("tags", red)
        assert records.get("items", order)["fields"]["tags"] == [blue]
        records.delete("items", order)
        records.delete("customers", ming)                # cascade: its referral goes too
        assert records.get("customers", hua, include_deleted=True)["deleted_at"] is not None
    assert lab.refused({"customer": hua, "lines": [{"product": "a"}]}) == {"customer": "relation_missing"}

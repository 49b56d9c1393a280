"""Formula and rollup as field types: typed by their result, read only, filtered and
sorted as their result type on both databases, errors shown by code. (How values are
kept current is tested in tests/engine/computed/test_computed_records.py.)"""
from decimal import Decimal

from engine.formula.values import ErrorValue
from tests.support.fields import CTX, CTX_EN, Lab, L, make, problem_at, refused

TYPES = {"formula", "rollup"}

FIELDS = [
    {"key": "title", "type": "text", "label": L("标题", "Title")},
    {"key": "amount", "type": "number", "label": L("金额", "Amount"), "precision": 2},
    {"key": "parent", "type": "relation", "label": L("上级", "Parent"), "target": "items"},
    {"key": "doubled", "type": "formula", "label": L("双倍", "Doubled"), "formula": "amount * 2",
     "result": "number", "precision": 1, "unit": "元"},
    {"key": "shout", "type": "formula", "label": L("标题!", "Shout"), "formula": 'title & "!"'},
    {"key": "share", "type": "formula", "label": L("占比", "Share"), "formula": "100 / amount", "result": "number"},
    {"key": "children", "type": "rollup", "label": L("下级数", "Children"), "source": "items", "via": "parent",
     "aggregate": "count"},
    {"key": "children_total", "type": "rollup", "label": L("下级金额", "Children total"), "source": "items",
     "via": "parent", "aggregate": "sum", "field": "amount"},
]


def test_computed_values_are_read_only():
    rollup = {"source": "a", "via": "b", "aggregate": "count"}
    for name, config in (("formula", {"formula": "1 + 1"}), ("rollup", rollup)):
        ftype = make(name, **config)
        refused(ftype, 5, "computed_read_only", zh=["自动计算"], en=["cannot be set"])
        refused(ftype, "5", "computed_read_only", how="parse_text")
        assert ftype.convert_from(make("text"), "x", CTX) is None       # recomputed by the migration


def test_formula_takes_the_shape_of_its_result():
    number = make("formula", formula="amount * 2", result="number", precision=1, unit="元", thousands=True)
    assert number.formula_type == "number" and "gt" in number.operators
    assert number.display(Decimal("12345.6"), CTX) == "12,345.6 元"
    assert number.to_json(Decimal("1.5")) == "1.5"
    text = make("formula", formula='"a" & "b"', result="text")
    assert "contains" in text.operators and "gt" not in text.operators
    error = ErrorValue("#DIV/0!")
    assert number.display(error, CTX_EN) == "#DIV/0!" and number.to_json(error) == "#DIV/0!"
    assert number.export_value(error, CTX) == "#DIV/0!" and number.is_empty(error)


def test_definition_errors():
    problem_at([{"key": "a", "type": "number", "label": L("数")},
                {"key": "f", "type": "formula", "label": L("公式"), "formula": "a +* 2"}],
               "forms[0].fields[1].formula")
    problem_at([{"key": "f", "type": "formula", "label": L("公式"), "formula": "1", "result": "money"}],
               "forms[0].fields[0].result")
    problem_at([{"key": "t", "type": "text", "label": L("标题")},
                {"key": "r", "type": "rollup", "label": L("汇总"), "source": "items", "via": "t", "aggregate": "count"}],
               "forms[0].fields[1].via")


def test_round_trip_filters_and_sort(db):
    lab = Lab(db, FIELDS)
    top = lab.create(title="总部", amount="0")["id"]
    east = lab.create(title="华东", amount="1,000", parent=top)["id"]
    west = lab.create(title="华西", amount="250.5", parent=top)["id"]
    got = lab.get(top)["fields"]
    assert (got["children"], got["children_total"]) == (Decimal(2), Decimal("1250.50"))
    assert got["share"] == ErrorValue("#DIV/0!")                        # 100 / 0
    assert lab.get(east)["fields"]["doubled"] == Decimal("2000.0")
    assert lab.get(west)["fields"]["shout"] == "华西!"
    lab.check_filters("doubled", [("gt", 1000, [east]), ("between", [0, 501], [top, west]),
                                  ("eq", "501.0", [west]), ("not_empty", None, [top, east, west])])
    lab.check_filters("shout", [("contains", "华", [east, west]), ("starts_with", "总", [top])])
    lab.check_filters("share", [("empty", None, [top]), ("gte", 0, [east, west])])   # the error is empty
    lab.check_filters("children", [("eq", 2, [top]), ("eq", 0, [east, west])])
    assert lab.ids(sort="-doubled") == [east, west, top]
    assert lab.refused({"doubled": 1, "children": 3}) == {"doubled": "computed_read_only",
                                                          "children": "computed_read_only"}

"""Number: exact Decimal, usual spellings, rounding per precision, limits, filters."""
from decimal import Decimal

import pytest

from engine.query.filters import FilterError
from tests.support.fields import CTX, Lab, L, make, problem_at, refused

TYPES = {"number"}
D = Decimal


@pytest.mark.parametrize("raw, expected", [
    ("1,234.50", "1234.50"), ("1234.5", "1234.50"), (" 42 ", "42.00"), ("１２３．４", "123.40"),
    ("¥1,000", "1000.00"), ("￥ -3.5", "-3.50"), ("12 %", "0.12"), ("1 234 567.8", "1234567.80"),
    ("1e3", "1000.00"), ("+7", "7.00"),
    (".5", "0.50"), (5, "5.00"), (D("0.1"), "0.10"), (0.1, "0.10"), (1e-7, "0.00"),
    ("2.675", "2.68"), ("2.665", "2.67"), ("-2.675", "-2.68"),       # half up, exactly (not float)
    ("-0", "0.00"), ("-0.001", "0.00"), (-0.0, "0.00"),              # no negative zero
    ("9999999999999999.99", "9999999999999999.99"),                  # 18 digits: the most
])
def test_spellings_are_read_exactly(raw, expected):
    value = make("number", precision=2).clean(raw, CTX)
    assert isinstance(value, Decimal) and str(value) == expected


def test_precision_rounds_half_up():
    assert make("number", precision=0).clean("1234.5", CTX) == D("1235")
    assert make("number", precision=4).clean("0.00005", CTX) == D("0.0001")
    assert str(make("number", precision=10).clean("1", CTX)) == "1.0000000000"
    # Decimal arithmetic stays exact where floats are not
    assert make("number").clean("0.1", CTX) + make("number").clean("0.2", CTX) == D("0.30")


@pytest.mark.parametrize("raw", ["abc", "1.2.3", "1,23,4", "--1", "1 2", "", "¥", "0x10", "NaN", "Infinity",
                                 True, [1], {"v": 1}, float("nan"), float("inf")])
def test_what_is_not_a_number(raw):
    error = refused(make("number"), raw, "number_invalid", zh=["不是有效的数字"], en=["is not a number"])
    assert len(error.params["value"]) <= 50


@pytest.mark.parametrize("raw", [2 ** 63, str(2 ** 63), "1e999", "99999999999999999.99", D("1E+30")])
def test_too_many_digits_is_refused_on_both_databases(raw):
    refused(make("number", precision=2), raw, "number_too_many_digits", zh=["18"], en=["at most 18"])


def test_min_and_max_in_both_languages():
    number = make("number", precision=2, min=0, max=99.5)
    assert number.clean("99.5", CTX) == D("99.50") and number.clean(0, CTX) == D("0.00")
    refused(number, "-0.01", "number_too_small", zh=["不能小于 0"], en=["at least 0"])
    refused(number, "99.51", "number_too_large", zh=["99.5"], en=["at most 99.5"])


def test_definition_errors():
    problem_at([{"key": "n", "type": "number", "label": L("数"), "min": 10, "max": 1}],
               "forms[0].fields[0].min", "greater than max")
    problem_at([{"key": "n", "type": "number", "label": L("数"), "precision": 11}],
               "forms[0].fields[0].precision")
    wrong = problem_at([{"key": "n", "type": "number", "label": L("数"), "precison": 2}],
                       "forms[0].fields[0].precison", "unknown key")
    assert wrong.suggestion == "precision"
    problem_at([{"key": "n", "type": "number", "label": L("数"), "min": 0, "default": -1}],
               "forms[0].fields[0].default", "at least 0")


def test_display_export_and_parse_round_trip():
    money = make("number", precision=2, thousands=True, unit="元")
    value = D("1234567.5")
    assert money.display(money.clean(value, CTX), CTX) == "1,234,567.50 元"
    assert money.parse_text("1,234,567.50 元", CTX) == D("1234567.50")
    assert money.export_value(D("1.50"), CTX) == D("1.50")          # a number cell, not text
    assert money.to_json(D("1.50")) == "1.50" and money.to_json(None) is None
    rate = make("number", precision=3, percent=True)
    assert rate.display(D("0.125"), CTX) == "12.5%"
    assert rate.parse_text("12.5%", CTX) == D("0.125")
    assert make("number", precision=2, percent=True).display(D("0.13"), CTX) == "13%"
    assert make("number").parse_cell(3.5, CTX) == D("3.50")
    assert make("number").display(None, CTX) == ""


def test_operands_are_exact_and_bounded():
    number = make("number", precision=2)
    assert number.clean_operand("0.005", CTX) == D("0.005")
    assert number.comparable("gt", D("0.005")) == D("0.00")
    assert number.comparable("gte", D("0.005")) == D("0.01")
    assert number.comparable("lt", D("-0.005")) == D("0.00")
    assert number.comparable("eq", D("1.5")) == D("1.50")
    refused(number, "1e30", "number_too_many_digits", how="clean_operand")
    refused(number, "abc", "number_invalid", how="clean_operand")


FIELDS = [
    {"key": "amount", "type": "number", "label": L("金额", "Amount"), "precision": 2},
    {"key": "qty", "type": "number", "label": L("数量", "Qty"), "precision": 0, "min": 0, "unique": True},
]


def test_round_trip_filters_and_sort(db):
    lab = Lab(db, FIELDS)
    given = {"big": "9999999999999999.99", "small": "-9999999999999999.99", "cent": "0.01", "zero": "-0",
             "grouped": "1,234.50", "half": "2.675", "neg": -5, "none": None}
    ids = {name: lab.create(amount=value, qty=i)["id"] for i, (name, value) in enumerate(given.items())}
    expected = {"big": "9999999999999999.99", "small": "-9999999999999999.99", "cent": "0.01", "zero": "0.00",
                "grouped": "1234.50", "half": "2.68", "neg": "-5.00"}
    for name, text in expected.items():
        value = lab.value(ids[name], "amount")
        assert isinstance(value, Decimal) and str(value) == text, (name, value)
    assert lab.value(ids["none"], "amount") is None
    assert lab.value(ids["zero"], "qty") == D("3")

    stored = {k: v for k, v in ids.items() if k != "none"}
    everyone = set(ids.values())
    lab.check_filters("amount", [
        ("eq", "1234.5", [ids["grouped"]]),
        ("eq", "1,234.50", [ids["grouped"]]),
        ("eq", "0.005", []),                            # no stored value has three places
        ("ne", "0.005", everyone),
        ("ne", "0.01", everyone - {ids["cent"]}),       # empty values are "not equal" too
        ("in", ["0.01", "-5", "0.001"], [ids["cent"], ids["neg"]]),
        ("not_in", ["0.01", "-5"], everyone - {ids["cent"], ids["neg"]}),
        ("gt", "0.005", [ids["big"], ids["cent"], ids["grouped"], ids["half"]]),
        ("gte", "0.005", [ids["big"], ids["cent"], ids["grouped"], ids["half"]]),
        ("gt", "0", [ids["big"], ids["cent"], ids["grouped"], ids["half"]]),
        ("gte", "0", [ids["big"], ids["cent"], ids["grouped"], ids["half"], ids["zero"]]),
        ("lt", "-0.005", [ids["small"], ids["neg"]]),
        ("lte", "0.009", [ids["small"], ids["neg"], ids["zero"]]),
        ("between", ["-5", "2.68"], [ids["neg"], ids["zero"], ids["cent"], ids["half"]]),
        ("between", ["0.001", "2.679"], [ids["cent"]]),
        ("between", [None, "-5"], [ids["small"], ids["neg"]]),
        ("empty", None, [ids["none"]]),
        ("not_empty", None, stored.values()),
    ])
    order = [i for i in lab.ids(sort=[{"field": "amount"}]) if i != ids["none"]]
    assert order == [ids[k] for k in ("small", "neg", "zero", "cent", "half", "grouped", "big")]
    descending = [i for i in lab.ids(sort="-amount") if i != ids["none"]]
    assert descending == list(reversed(order))

    rec = lab.update(ids["cent"], amount="-0.00")
    assert str(rec["fields"]["amount"]) == "0.00"
    assert lab.refused({"amount": str(2 ** 63)}) == {"amount": "number_too_many_digits"}
    assert lab.refused({"qty": "-1"}) == {"qty": "number_too_small"}
    assert lab.refused({"qty": "2"}) == {"qty": "unique"}
    with pytest.raises(FilterError, match="filter.value: Too many digits"):
        lab.ids({"field": "amount", "op": "gt", "value": "1e30"})
    with pytest.raises(FilterError, match="is not a number"):
        lab.ids({"field": "amount", "op": "lt", "value": "1; DROP TABLE x"})

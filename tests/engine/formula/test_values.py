"""The value model: coercions with Excel semantics, the JSON shape, the context and limits."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest

from engine.formula.values import (
    DIV0, NA, NUM, VALUE, EvalContext, ErrorValue, LimitExceeded, Limits, ValueJSONError,
    date_to_serial, first_error, flatten, format_number, from_json, is_error, parse_formatted_number,
    to_bool, to_date,
    to_datetime, to_json, to_number, to_text, type_name,
)

SH = ZoneInfo("Asia/Shanghai")


def test_error_values_are_equal_by_code_and_hashable():
    assert ErrorValue("#DIV/0!") == DIV0 == ErrorValue.DIV0
    assert {NA, ErrorValue("#N/A")} == {NA}
    assert str(VALUE) == "#VALUE!"
    assert is_error(NUM) and not is_error("#NUM!")
    assert first_error([1, "a", NA, DIV0]) is NA
    assert first_error([1, [DIV0]]) is None   # arrays are not opened


@pytest.mark.parametrize("value, expected", [
    (None, D(0)), (True, D(1)), (False, D(0)), (D("2.5"), D("2.5")), (3, D(3)), (0.1, D("0.1")),
    ("12.5", D("12.5")), (" -3 ", D(-3)), ("1e3", D(1000)), (".5", D("0.5")),
    ("1,234", VALUE), ("abc", VALUE), ("", VALUE), ("50%", VALUE), ("1e999", VALUE),
    (date(2025, 1, 1), VALUE), ([1, 2], VALUE), (DIV0, DIV0),
])
def test_to_number(value, expected):
    assert to_number(value) == expected


@pytest.mark.parametrize("value, expected", [
    (D("2.50"), "2.5"), (D("0.1"), "0.1"), (D(0), "0"), (D("-0.0"), "0"), (D(100), "100"),
    (D("1E+20"), "100000000000000000000"), (D("1E+21"), "1E+21"), (D("-1.5E+25"), "-1.5E+25"),
    (D("0.000000001"), "0.000000001"), (D("1E-10"), "1E-10"),
    (D(1) / D(3), "0.333333333333333"), (D("123456789012345678"), "123456789012346000"),
    (D("2.675"), "2.675"), (D("0.1") * 3, "0.3"),
])
def test_format_number_as_excel_general(value, expected):
    assert format_number(value) == expected


@pytest.mark.parametrize("value, expected", [
    (None, ""), ("中文", "中文"), (True, "TRUE"), (False, "FALSE"), (D("12.50"), "12.5"),
    (date(2025, 1, 15), "2025-01-15"), (datetime(2025, 1, 15, 9, 30, tzinfo=SH), "2025-01-15 09:30:00"),
    (NA, NA), ([1], VALUE),
])
def test_to_text(value, expected):
    assert to_text(value) == expected


@pytest.mark.parametrize("value, expected", [
    (None, False), (True, True), (D(0), False), (D("0.1"), True), ("true", True), ("FALSE", False),
    ("yes", VALUE), ("", VALUE), (date(2025, 1, 1), True), (DIV0, DIV0), ([True], VALUE),
])
def test_to_bool(value, expected):
    assert to_bool(value) == expected


@pytest.mark.parametrize("value, expected", [
    (date(2024, 2, 29), date(2024, 2, 29)),
    (datetime(2025, 1, 15, 23, 59, tzinfo=SH), date(2025, 1, 15)),
    ("2025-01-15", date(2025, 1, 15)), ("2025/1/5", date(2025, 1, 5)), ("2025.1.5", date(2025, 1, 5)),
    ("2025年1月5日", date(2025, 1, 5)), ("2025-01-15 10:30", date(2025, 1, 15)),
    ("2025-02-30", VALUE), ("15/01/2025", VALUE), ("", VALUE),
    (D(45672), date(2025, 1, 15)), (D("45672.75"), date(2025, 1, 15)), (D(-1), NUM),
    (None, None), (NA, NA), (True, VALUE),
])
def test_to_date(value, expected):
    assert to_date(value) == expected


def test_to_datetime_keeps_time_and_zone():
    assert to_datetime(date(2025, 1, 15)) == datetime(2025, 1, 15, tzinfo=SH)
    assert to_datetime(D("45672.5")) == datetime(2025, 1, 15, 12, tzinfo=SH)
    utc = datetime(2025, 1, 15, 1, 0, tzinfo=timezone.utc)
    assert to_datetime(utc).hour == 9 and to_datetime(utc).tzinfo == SH
    assert to_datetime("2025-01-15T09:30:00Z") == datetime(2025, 1, 15, 17, 30, tzinfo=SH)
    assert to_datetime("9:05").minute == 5
    assert to_datetime("25:00") == VALUE


def test_serials_match_excel():
    assert date_to_serial(date(2025, 1, 15)) == 45672
    assert date_to_serial(datetime(2025, 1, 15, 18, tzinfo=SH)) == D("45672.75")


@pytest.mark.parametrize("value, name", [
    (None, "empty"), (D(1), "number"), ("x", "text"), (True, "boolean"), (date.today(), "date"),
    (datetime.now(SH), "datetime"), ([1], "array"), (NA, "error"),
])
def test_type_name(value, name):
    assert type_name(value) == name


def test_flatten_opens_nested_arrays_in_order():
    assert list(flatten([1, [2, [3, None]], "a"])) == [1, 2, 3, None, "a"]


@pytest.mark.parametrize("value, shape", [
    (D(125), {"number": 125}), (D("2.50"), {"number": 2.5}), (D("0.1"), {"number": 0.1}),
    (D(1) / D(3), {"number": "0.3333333333333333333333333333"}),
    (D(2) ** 60, {"number": "1152921504606846976"}), (D("1E+25"), {"number": 1e25}),
    (D("12345678901234567890.5"), {"number": "12345678901234567890.5"}),
    ("张三", {"text": "张三"}), (True, {"bool": True}), (None, {"empty": True}),
    (date(2025, 2, 28), {"date": "2025-02-28"}),
    (datetime(2025, 2, 28, 9, 0, tzinfo=SH), {"datetime": "2025-02-28T09:00:00+08:00"}),
    (DIV0, {"error": "#DIV/0!"}), ([D(1), None, "a"], {"array": [{"number": 1}, {"empty": True}, {"text": "a"}]}),
])
def test_to_json(value, shape):
    assert to_json(value) == shape


@pytest.mark.parametrize("shape", [
    {"number": 125}, {"number": 2.5}, {"number": "0.3333333333333333333333333333"}, {"text": ""},
    {"bool": False}, {"empty": True}, {"date": "2024-02-29"}, {"datetime": "2025-02-28T09:00:00+08:00"},
    {"error": "#N/A"}, {"array": [{"number": 1}, {"date": "2025-01-01"}]},
])
def test_json_round_trip(shape):
    assert to_json(from_json(shape)) == shape


def test_from_json_plain_inputs():
    assert from_json([1, 2.5, "a", None, True, {"date": "2025-01-15"}]) == [
        D(1), D("2.5"), "a", None, True, date(2025, 1, 15)]
    assert from_json({"datetime": "2025-01-15 09:30"}) == datetime(2025, 1, 15, 9, 30, tzinfo=SH)


@pytest.mark.parametrize("bad, words", [
    ({"date": "2025-13-01"}, "YYYY-MM-DD"), ({"date": 5}, "YYYY-MM-DD"), ({"number": "x"}, "not a number"),
    ({"number": True}, "not a number"), ({"error": "#OOPS"}, "not a formula value"),
    ({"a": 1, "b": 2}, "exactly one key"), (float("nan"), "finite"), ({"set": [1]}, "not a formula value"),
])
def test_from_json_refuses_with_a_reason(bad, words):
    with pytest.raises(ValueJSONError, match=words):
        from_json(bad)


def test_context_today_in_workspace_zone():
    late_utc = datetime(2025, 1, 15, 17, 0, tzinfo=timezone.utc)   # 01:00 next day in Shanghai
    ctx = EvalContext(now=late_utc)
    assert ctx.today == date(2025, 1, 16)
    assert ctx.now.tzinfo == SH
    assert EvalContext(now=late_utc, tz=ZoneInfo("UTC")).today == date(2025, 1, 15)
    naive = EvalContext(now=datetime(2025, 1, 15, 8, 0))
    assert naive.now == datetime(2025, 1, 15, 8, 0, tzinfo=SH)


def test_tick_raises_past_the_budget_and_begin_resets_it():
    ctx = EvalContext(limits=Limits(max_steps=10))
    ctx.tick(10)
    with pytest.raises(LimitExceeded):
        ctx.tick()
    ctx.begin()
    ctx.tick(5)
    assert ctx.steps == 5


@pytest.mark.parametrize("text, expected", [
    ("1,234.5", D("1234.5")), ("50%", D("0.5")), ("12.5%", D("0.125")), ("¥12", D(12)), ("￥1,000", D(1000)),
    ("-¥12", D(-12)), ("¥-12", D(-12)), ("$1,000,000.00", D(1000000)), ("(12)", D(-12)), ("１２３", D(123)),
    ("  7 ", D(7)), ("1e3", D(1000)), ("+5", D(5)),
    ("1,23", None), ("abc", None), ("", None), ("%", None), ("+-3", None), ("-(3)", None), ("¥", None),
    ("1.2.3", None), ("12abc", None),
])
def test_parse_formatted_number_reads_numbers_as_people_write_them(text, expected):
    assert parse_formatted_number(text) == expected


def test_long_texts_are_not_dates_and_answer_at_once():
    """The date-text regex is quadratic in runs of spaces: a long text is refused before
    it (DATEVALUE of a 1,000,000-character text took hours); real date texts still read."""
    from engine.formula import evaluate, parse
    assert to_date(" 2025 年 1 月 15 日 09:30:00.123456 +08:00 ") == date(2025, 1, 15)
    long_text = "2025-01-15" + " " * 1_000_000
    assert to_date(long_text + "x") == VALUE
    assert to_date("2025-01-15" + " " * 200 + "09:30") == VALUE
    formula = parse('DATEVALUE("2025-01-15" & REPT(" ", 999000) & "x")')
    assert evaluate(formula, {}, EvalContext()) == VALUE
    assert evaluate(parse('COUNTIF(xs, c)'), {"xs": [date(2025, 1, 15)], "c": long_text + "x"},
                    EvalContext()) == 0

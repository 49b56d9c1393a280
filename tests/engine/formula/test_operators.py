"""The operators: Excel semantics on exact Decimals, dates, text and errors."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest

from engine.formula import operators as op
from engine.formula.values import DIV0, NA, NUM, VALUE

SH = ZoneInfo("Asia/Shanghai")
JAN15 = date(2025, 1, 15)


@pytest.mark.parametrize("fn, left, right, expected", [
    (op.add, D(1), D(2), D(3)),
    (op.add, "3", D(1), D(4)),                     # text numbers take part
    (op.add, True, D(1), D(2)),
    (op.add, None, None, D(0)),                    # empty is 0
    (op.add, "abc", D(1), VALUE),
    (op.add, "1,234", D(1), VALUE),
    (op.add, D("0.1"), D("0.2"), D("0.3")),        # exact, not 0.30000000000000004
    (op.sub, D(5), D(7), D(-2)),
    (op.mul, D("1.005"), D(1000), D("1005.000")),
    (op.mul, D("9E+200"), D("9E+200"), NUM),       # beyond 1E+308
    (op.div, D(1), D(0), DIV0),
    (op.div, D(0), D(0), DIV0),
    (op.div, D(1), None, DIV0),
    (op.div, D(10), D(4), D("2.5")),
    (op.div, D(1), D(3), D("0.3333333333333333333333333333333333")),  # 34 digits
    # the leftmost error value wins; error values come before conversion errors
    (op.add, DIV0, NA, DIV0),
    (op.add, "x", NA, NA),
    (op.mul, NA, "x", NA),
    (op.add, D(1), [D(1)], VALUE),
])
def test_arithmetic(fn, left, right, expected):
    assert fn(left, right) == expected


@pytest.mark.parametrize("left, right, expected", [
    (D("1.05"), D(3), D("1.157625")),
    (D(2), D(10), D(1024)),
    (D(2), D(-1), D("0.5")),
    (D(-8), D(3), D(-512)),
    (D(-8), D("0.5"), NUM),            # negative base, fractional exponent
    (D(4), D("0.5"), D(2)),
    (D(0), D(0), NUM),                 # as Excel
    (D(0), D(-1), DIV0),
    (D(0), D(5), D(0)),
    (D(10), D(309), NUM),              # past 1E+308
    (D(2), D(10 ** 9), NUM),           # past the exponent limit, at once
    (D(1), D(10 ** 9), NUM),
    ("2", True, D(2)),
    (VALUE, D(2), VALUE),
])
def test_power(left, right, expected):
    assert op.power(left, right) == expected


def test_power_of_tiny_base_underflows_to_zero_not_an_error():
    assert op.power(D("0.1"), D(400)) == 0


@pytest.mark.parametrize("fn, value, expected", [
    (op.neg, D(3), D(-3)), (op.neg, "2", D(-2)), (op.neg, None, D(0)), (op.neg, "x", VALUE),
    (op.neg, NA, NA), (op.neg, JAN15, VALUE),
    (op.percent, D(5), D("0.05")), (op.percent, D(50), D("0.5")), (op.percent, "x", VALUE),
    (op.percent, DIV0, DIV0),
    (op.pos, "abc", "abc"), (op.pos, D(-1), D(-1)),
])
def test_unary(fn, value, expected):
    assert fn(value) == expected


def test_minus_binds_to_the_power_as_excel_reads_it():
    # -3^2 is (-3)^2 in Excel; the parser builds it, the operators agree
    assert op.power(op.neg(D(3)), D(2)) == 9


@pytest.mark.parametrize("fn, left, right, expected", [
    (op.add, JAN15, D(90), date(2025, 4, 15)),
    (op.add, date(2025, 11, 20), D(90), date(2026, 2, 18)),
    (op.add, D(1), date(2024, 2, 28), date(2024, 2, 29)),          # leap day
    (op.add, JAN15, D("1.9"), date(2025, 1, 16)),                  # a date drops the fraction
    (op.add, JAN15, "2", date(2025, 1, 17)),
    (op.add, JAN15, None, JAN15),
    (op.add, JAN15, JAN15, VALUE),
    (op.add, JAN15, D(10 ** 9), NUM),
    (op.add, date(9999, 12, 31), D(1), NUM),
    (op.add, JAN15, NA, NA),
    (op.sub, date(2025, 3, 1), date(2025, 1, 15), D(45)),
    (op.sub, date(2024, 3, 1), date(2024, 2, 1), D(29)),
    (op.sub, JAN15, D(15), date(2024, 12, 31)),
    (op.sub, D(1), JAN15, VALUE),
    (op.sub, NA, JAN15, NA),
    (op.mul, JAN15, D(2), VALUE),
    (op.add, datetime(2025, 1, 15, 9, tzinfo=SH), D("0.5"), datetime(2025, 1, 15, 21, tzinfo=SH)),
    (op.sub, datetime(2025, 1, 16, 6, tzinfo=SH), datetime(2025, 1, 15, 18, tzinfo=SH), D("0.5")),
    (op.sub, datetime(2025, 1, 16, 6, tzinfo=SH), JAN15, D("1.25")),
])
def test_date_arithmetic(fn, left, right, expected):
    assert fn(left, right) == expected


@pytest.mark.parametrize("left, right, expected", [
    ("张", "三", "张三"), ("a", D(1), "a1"), (D("2.50"), "", "2.5"), (D("0.1"), "", "0.1"),
    (None, "x", "x"), (True, "", "TRUE"), (JAN15, "", "2025-01-15"), ("a", NA, NA), (DIV0, NA, DIV0),
    ("a", ["b"], VALUE),
])
def test_concat(left, right, expected):
    assert op.concat(left, right) == expected


def test_concat_refuses_text_past_the_limit():
    big = "x" * 600_000
    assert op.concat(big, big) == VALUE


@pytest.mark.parametrize("fn, left, right, expected", [
    (op.eq, "abc", "ABC", True), (op.ne, "abc", "ABC", False),
    (op.lt, "apple", "banana", True), (op.lt, "a", "B", True),
    (op.eq, D(1), D("1.00"), True), (op.eq, D(1), "1", False),     # a number is never text
    (op.lt, D(999), "1", True),                                     # numbers < text
    (op.lt, "zzz", False, True),                                    # text < booleans
    (op.gt, True, D(10 ** 9), True),
    (op.eq, None, D(0), True), (op.eq, None, "", True), (op.eq, None, False, True),
    (op.eq, None, None, True), (op.lt, None, D(1), True), (op.gt, "a", None, True),
    (op.eq, JAN15, date(2025, 1, 15), True), (op.lt, JAN15, date(2025, 1, 16), True),
    (op.eq, JAN15, D(45672), True),                                 # dates are numbers in order
    (op.lt, JAN15, "a", True),
    (op.lt, JAN15, datetime(2025, 1, 15, 8, tzinfo=SH), True),
    (op.ge, D(2), D(2), True), (op.le, D(3), D(2), False), (op.gt, D(-1), None, False),
    (op.eq, NA, D(1), NA), (op.lt, D(1), DIV0, DIV0), (op.eq, [1], D(1), VALUE),
])
def test_comparisons(fn, left, right, expected):
    assert fn(left, right) == expected


def test_symbol_tables_cover_the_language():
    assert set(op.BINARY) == {"+", "-", "*", "/", "^", "&", "=", "==", "<>", "!=", "<", "<=", ">", ">="}
    assert op.BINARY["=="] is op.eq and op.BINARY["!="] is op.ne
    assert set(op.UNARY) == {"-", "+"} and set(op.POSTFIX) == {"%"}

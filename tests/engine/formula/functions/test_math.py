"""Math functions: sums, rounding, remainders, powers and logarithms on exact Decimals."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from engine.formula.values import DIV0, NA, NUM, VALUE
from tests.support.formula_functions import call, same

BIG = D("9E+300")


@pytest.mark.parametrize("name, args, expected", [
    ("SUM", (1, 2, 3.5), 6.5),
    ("SUM", ([0.1] * 10,), 1),                          # exact: 1, not 0.9999999999999999
    ("SUM", ([1, "a", None, True, 2],), 3),             # text/bool/empty in arrays skipped
    ("SUM", (1, "2", True), 4),                         # single text number and TRUE count
    ("SUM", (1, "", "abc", None), 1),                   # other single text and empties skipped
    ("SUM", ([],), 0),
    ("SUM", ([1, [2, [3]]],), 6),
    ("SUM", ([1, DIV0],), DIV0),
    ("SUM", (1, NA), NA),
    ("SUM", ([BIG, BIG],), 18E+300),
    ("SUM", ([D("9E+308")] * 2,), NUM),                 # past 1E+308
    ("SUM", ([D("0.01")] * 3, D("100000000000000000.01")), D("100000000000000000.04")),
    ("PRODUCT", (2, 3, 4), 24),
    ("PRODUCT", ([2, "x", 3],), 6),
    ("PRODUCT", ([],), 0),
    ("PRODUCT", (BIG, BIG), NUM),
    ("SUMPRODUCT", ([2, 3], [10, 20]), 80),
    ("SUMPRODUCT", ([1, 2, 3],), 6),
    ("SUMPRODUCT", ([2, "x", 3], [10, 20, 30]), 110),   # non-numbers count as 0
    ("SUMPRODUCT", ([1, 2], [1, 2, 3]), VALUE),
    ("SUMPRODUCT", ([1, NA], [1, 2]), NA),
    ("SUMPRODUCT", ([], []), 0),
    ("SUMPRODUCT", (5, 2), 10),
])
def test_sums_and_products(name, args, expected):
    assert same(call(name, *args), expected)


def test_sum_skips_dates_inside_arrays_as_serials_like_excel():
    assert call("SUM", [date(2025, 1, 15)]) == 45672


@pytest.mark.parametrize("name, args, expected", [
    ("ROUND", (2.675, 2), 2.68), ("ROUND", (2.345, 2), 2.35), ("ROUND", (-2.5, 0), -3),
    ("ROUND", (2.5, 0), 3), ("ROUND", (1.005, 2), 1.01), ("ROUND", (-1.005, 2), -1.01),
    ("ROUND", (1234.5678, -2), 1200), ("ROUND", (1250, -2), 1300), ("ROUND", (49, -2), 0),
    ("ROUND", (1.5, 10), 1.5), ("ROUND", (1.23, 2.9), 1.23), ("ROUND", ("2.675", 2), 2.68),
    ("ROUND", (None, 2), 0), ("ROUND", ("x", 2), VALUE), ("ROUND", ([1], 0), VALUE),
    ("ROUND", (BIG, -400), 0), ("ROUND", (D("1E-300"), 400), D("1E-300")),
    ("ROUND", (D("0.123456789012345678901234567890123"), 33), D("0.123456789012345678901234567890123")),
    ("ROUNDUP", (-3.2, 0), -4), ("ROUNDUP", (3.2, 0), 4), ("ROUNDUP", (3.14159, 3), 3.142),
    ("ROUNDUP", (31415.92654, -2), 31500), ("ROUNDUP", (0, 2), 0),
    ("ROUNDDOWN", (3.99, 1), 3.9), ("ROUNDDOWN", (-3.99, 1), -3.9), ("ROUNDDOWN", (31415.9, -2), 31400),
    ("INT", (-3.5,), -4), ("INT", (3.5,), 3), ("INT", (-3,), -3), ("INT", ("8.9",), 8), ("INT", (None,), 0),
    ("TRUNC", (-3.9,), -3), ("TRUNC", (3.999, 2), 3.99), ("TRUNC", (-3.999, 2), -3.99), ("TRUNC", (123.4, -1), 120),
    ("CEILING", (4.2, 0.5), 4.5), ("CEILING", (12.01, 1), 13), ("CEILING", (2.5,), 3),
    ("CEILING", (-2.5, 2), -2), ("CEILING", (-2.5, -2), -4), ("CEILING", (2.5, -2), NUM),
    ("CEILING", (1.5, 0), 0), ("CEILING", (0, 5), 0), ("CEILING", (10, 10), 10), ("CEILING", (0.234, 0.01), 0.24),
    ("FLOOR", (-2.5, 2), -4), ("FLOOR", (-2.5, -2), -2), ("FLOOR", (2.5, -2), NUM), ("FLOOR", (3.7,), 3),
    ("FLOOR", (3.7, 2), 2), ("FLOOR", (1.58, 0.1), 1.5), ("FLOOR", (5, 0), DIV0), ("FLOOR", (0, 0), 0),
])
def test_rounding(name, args, expected):
    assert same(call(name, *args), expected)


@pytest.mark.parametrize("name, args, expected", [
    ("MOD", (10, 3), 1), ("MOD", (10, -3), -2), ("MOD", (-3, 2), 1), ("MOD", (-10, -3), -1),
    ("MOD", (3, 0), DIV0), ("MOD", (6, 3), 0), ("MOD", (5.5, 2), 1.5), ("MOD", (-0.5, 1), 0.5),
    ("MOD", (D("1E+40"), 3), NUM),
    ("ABS", (-12.5,), 12.5), ("ABS", (0,), 0), ("ABS", ("-3",), 3), ("ABS", ("x",), VALUE),
    ("SIGN", (-8,), -1), ("SIGN", (0,), 0), ("SIGN", (0.001,), 1), ("SIGN", (None,), 0),
])
def test_signs_and_remainders(name, args, expected):
    assert same(call(name, *args), expected)


@pytest.mark.parametrize("name, args, expected", [
    ("POWER", (1.05, 3), 1.157625), ("POWER", (2, -2), 0.25), ("POWER", (0, 0), NUM),
    ("POWER", (0, -1), DIV0), ("POWER", (-8, 1 / 3), NUM), ("POWER", (10, 400), NUM),
    ("POWER", (2, 10 ** 7), NUM), ("POWER", ([2], 2), VALUE),
    ("SQRT", (16,), 4), ("SQRT", (2,), D("1.414213562373095048801688724209698")),
    ("SQRT", (-1,), NUM), ("SQRT", (0,), 0),
    ("EXP", (0,), 1), ("EXP", (1000,), NUM),
    ("LN", (1,), 0), ("LN", (0,), NUM), ("LN", (-1,), NUM),
    ("LOG", (1000,), 3), ("LOG", (1000, 10), 3), ("LOG", (8, 2), 3), ("LOG", (81, 3), 4),
    ("LOG", (1, 2), 0), ("LOG", (10, 1), DIV0), ("LOG", (0, 10), NUM), ("LOG", (10, -2), NUM),
    ("LOG10", (1000,), 3), ("LOG10", (0.001,), -3), ("LOG10", (0,), NUM),
])
def test_powers_and_logarithms(name, args, expected):
    assert same(call(name, *args), expected)


def test_transcendental_values_match_the_spreadsheet_to_15_digits():
    assert abs(call("EXP", 1) - D("2.71828182845905")) < D("1E-14")
    assert abs(call("LN", 10) - D("2.30258509299405")) < D("1E-14")
    assert str(call("PI")) == "3.141592653589793238462643383279503"
    assert str(call("ROUND", call("PI"), 4)) == "3.1416"

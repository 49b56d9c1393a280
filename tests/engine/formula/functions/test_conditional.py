"""Conditional aggregates: *IF and *IFS with Excel criteria."""
from __future__ import annotations

from datetime import date

import pytest

from engine.formula.functions import FUNCTIONS
from engine.formula.values import DIV0, NA, VALUE
from tests.support.formula_functions import call, same

STAGES = ["won", "lost", "won", "open", None]
AMOUNTS = [100, 50, 25, 300, 7]
OWNERS = ["张三", "李四", "张伟", "张三", "王五"]


@pytest.mark.parametrize("name, args, expected", [
    ("SUMIF", ([1, 2, 3, 4], ">2"), 7),
    ("SUMIF", (["won", "lost", "won"], "won", [100, 50, 25]), 125),
    ("SUMIF", (STAGES, "<>lost", AMOUNTS), 432),               # the empty stage is not "lost"
    ("SUMIF", (STAGES, "", AMOUNTS), 7),
    ("SUMIF", (STAGES, "WON", AMOUNTS), 125),
    ("SUMIF", (OWNERS, "张*", AMOUNTS), 425),
    ("SUMIF", (AMOUNTS, ">=100"), 400),
    ("SUMIF", (STAGES, "won", [1, 2]), VALUE),                 # ranges of different lengths
    ("SUMIF", (STAGES, "won", [NA, 1, 2, 3, 4]), NA),          # a picked error is the result
    ("SUMIF", (STAGES, "lost", [NA, 1, 2, 3, 4]), 1),          # an error not picked is not
    ("SUMIF", (["a", NA, "a"], "a", [1, 2, 3]), 4),            # errors in the range never match
    ("SUMIF", (STAGES, "won", ["100", 1, 2, 3, 4]), 2),        # text in the sum range is skipped
    ("SUMIF", ("won", "won", 5), 5),                            # single values are arrays of one
    ("SUMIF", ([], "x"), 0),
    ("SUMIFS", (AMOUNTS, STAGES, "won", AMOUNTS, ">50"), 100),
    ("SUMIFS", (AMOUNTS, STAGES, "won", OWNERS, "张*"), 125),
    ("SUMIFS", (AMOUNTS, STAGES, "<>lost", OWNERS, "<>张三"), 32),
    ("SUMIFS", (AMOUNTS, STAGES, "won", [1], 1), VALUE),
    ("SUMIFS", (AMOUNTS, STAGES, DIV0), DIV0),
    ("AVERAGEIF", (AMOUNTS, ">20"), 118.75),
    ("AVERAGEIF", (STAGES, "won", AMOUNTS), 62.5),
    ("AVERAGEIF", (STAGES, "nothing", AMOUNTS), DIV0),
    ("AVERAGEIFS", (AMOUNTS, STAGES, "won", OWNERS, "张三"), 100),
    ("AVERAGEIFS", (AMOUNTS, STAGES, "x"), DIV0),
    ("COUNTIF", (["won", "lost", "won"], "won"), 2),
    ("COUNTIF", (["张三", "李四", "张伟"], "张*"), 2),
    ("COUNTIF", (STAGES, ""), 1), ("COUNTIF", (STAGES, "<>"), 4), ("COUNTIF", (STAGES, "*"), 4),
    ("COUNTIF", ([1, "1", 2], 1), 2), ("COUNTIF", ([1, "1", 2], ">=1"), 2),
    ("COUNTIF", ([True, False, "TRUE"], True), 1),
    ("COUNTIF", ([1, NA, NA], "#N/A"), 2),
    ("COUNTIFS", (["won", "lost", "won"], "won", [100, 50, 25], ">30"), 1),
    ("COUNTIFS", (STAGES, "won", OWNERS, "张*"), 2),
    ("COUNTIFS", (STAGES, "won", OWNERS[:2], "张*"), VALUE),
    ("MAXIFS", ([100, 500, 25], ["won", "lost", "won"], "won"), 100),
    ("MAXIFS", (AMOUNTS, STAGES, "x"), 0),
    ("MAXIFS", (AMOUNTS, STAGES, "<>lost", OWNERS, "张*"), 300),
    ("MINIFS", (AMOUNTS, STAGES, "won"), 25),
    ("MINIFS", (AMOUNTS, STAGES, "won", AMOUNTS, ">30"), 100),
])
def test_conditional_aggregates(name, args, expected):
    assert same(call(name, *args), expected)


def test_criteria_on_dates_and_date_results():
    days = [date(2025, 1, 5), date(2025, 2, 5), date(2025, 3, 5)]
    assert call("COUNTIF", days, ">=2025-02-01") == 2
    assert call("MAXIFS", days, ["a", "b", "a"], "a") == date(2025, 3, 5)
    assert call("SUMIFS", [1, 2, 3], days, ">2025-01-31", days, "<2025-03-01") == 2


def test_sum_range_may_be_an_empty_field():
    # an empty field as sum_range is an array of one empty value, not "left out"
    assert call("SUMIF", [5], ">1", None) == 0


@pytest.mark.parametrize("name, count, ok", [
    ("SUMIFS", 3, True), ("SUMIFS", 4, False), ("SUMIFS", 5, True), ("COUNTIFS", 2, True),
    ("COUNTIFS", 3, False), ("MAXIFS", 4, False), ("AVERAGEIFS", 5, True), ("SUMIF", 4, False),
])
def test_pairs_of_ranges_and_criteria(name, count, ok):
    assert (FUNCTIONS[name].arity_problem(count) is None) is ok


def test_large_ranges_are_fast_enough_and_exact():
    stages = ["won", "lost"] * 50_000
    amounts = [0.1] * 100_000
    assert same(call("SUMIF", stages, "won", amounts), 5000)
    assert same(call("COUNTIFS", stages, "lost", amounts, ">0"), 50_000)

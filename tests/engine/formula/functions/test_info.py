"""Information functions: ISEMPTY ISBLANK ISNUMBER ISTEXT ISLOGICAL ISERROR ISNA NA."""
from __future__ import annotations

import pytest

from engine.formula.functions import FUNCTIONS
from engine.formula.values import DIV0, NA, NUM
from tests.support.formula_functions import call


@pytest.mark.parametrize("name, arg, expected", [
    ("ISEMPTY", None, True), ("ISEMPTY", "", True), ("ISEMPTY", [], True), ("ISEMPTY", [None, ""], True),
    ("ISEMPTY", [None, 1], False), ("ISEMPTY", 0, False), ("ISEMPTY", " ", False), ("ISEMPTY", NA, False),
    ("ISBLANK", None, True), ("ISBLANK", "", False), ("ISBLANK", 0, False),
    ("ISNUMBER", 3, True), ("ISNUMBER", "3", False), ("ISNUMBER", None, False), ("ISNUMBER", True, False),
    ("ISNUMBER", NA, False),
    ("ISTEXT", "x", True), ("ISTEXT", "", True), ("ISTEXT", 1, False), ("ISTEXT", None, False),
    ("ISLOGICAL", False, True), ("ISLOGICAL", 0, False),
    ("ISERROR", DIV0, True), ("ISERROR", NA, True), ("ISERROR", NUM, True), ("ISERROR", 1, False),
    ("ISERROR", [DIV0], False),
    ("ISNA", NA, True), ("ISNA", DIV0, False), ("ISNA", "#N/A", False),
])
def test_information(name, arg, expected):
    assert call(name, arg) is expected


def test_na_gives_the_error():
    assert call("NA") == NA


def test_information_functions_see_errors():
    assert all(not FUNCTIONS[name].propagate_errors
               for name in ("ISEMPTY", "ISBLANK", "ISNUMBER", "ISTEXT", "ISLOGICAL", "ISERROR", "ISNA"))

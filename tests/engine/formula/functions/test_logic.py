"""Logic functions: IF IFS SWITCH AND OR XOR NOT IFERROR IFNA TRUE FALSE."""
from __future__ import annotations

import pytest

from engine.formula.functions import FUNCTIONS
from engine.formula.values import DIV0, NA, NUM, VALUE
from tests.support.formula_functions import call, ctx, same


@pytest.mark.parametrize("name, args, expected", [
    ("IF", (True, "yes", "no"), "yes"),
    ("IF", (False, "yes", "no"), "no"),
    ("IF", (False, "yes"), False),                 # no else branch: FALSE, as Excel
    ("IF", (0, "yes", "no"), "no"),
    ("IF", (2, "yes", "no"), "yes"),
    ("IF", (None, "yes", "no"), "no"),             # empty is FALSE
    ("IF", ("TRUE", 1, 2), 1),
    ("IF", ("abc", 1, 2), VALUE),
    ("IF", (NA, 1, 2), NA),
    ("IF", ([True], 1, 2), VALUE),
    ("IF", (True, DIV0, 2), DIV0),
    ("IF", (False, DIV0, 2), 2),                    # the other branch is never looked at
    ("IFS", (False, "A", True, "B"), "B"),
    ("IFS", (False, "A", False, "B"), NA),
    ("IFS", (DIV0, "A", True, "B"), DIV0),
    ("IFS", ("x", "A", True, "B"), VALUE),
    ("SWITCH", ("bronze", "gold", 0.1, "silver", 0.05, 0), 0),
    ("SWITCH", ("SILVER", "gold", 0.1, "silver", 0.05, 0), 0.05),   # text ignoring case
    ("SWITCH", ("x", "a", 1), NA),
    ("SWITCH", (2, 1, "one", 2, "two"), "two"),
    ("SWITCH", (2, "2", "text"), NA),                                # a number is not text
    ("SWITCH", (None, 0, "zero"), "zero"),                           # empty equals 0
    ("SWITCH", (NA, 1, 2), NA),
    ("SWITCH", (1, DIV0, 2), DIV0),
    ("AND", (True, True), True), ("AND", (True, False), False), ("AND", (1, 2), True),
    ("AND", ([True, None, "x", 1],), True),        # text and empties in arrays are skipped
    ("AND", ([None, "x"],), VALUE),                # nothing to decide on
    ("AND", ("x",), VALUE), ("AND", ("true",), True), ("AND", (True, NA), NA),
    ("AND", (None, True), True),
    ("OR", (False, False), False), ("OR", (False, 1), True), ("OR", ([False, True],), True),
    ("OR", ([DIV0, True],), DIV0),
    ("XOR", (True, False), True), ("XOR", (True, True), False), ("XOR", (True, True, True), True),
    ("XOR", ([True, True, False],), False),
    ("NOT", (True,), False), ("NOT", (0,), True), ("NOT", (None,), True), ("NOT", ("x",), VALUE),
    ("NOT", ([True],), VALUE),
    ("IFERROR", (DIV0, 0), 0), ("IFERROR", (NA, "none"), "none"), ("IFERROR", (5, 0), 5),
    ("IFERROR", (None, 0), None),
    ("IFNA", (NA, "none"), "none"), ("IFNA", (DIV0, "none"), DIV0), ("IFNA", ("x", 0), "x"),
    ("TRUE", (), True), ("FALSE", (), False),
])
def test_logic(name, args, expected):
    assert same(call(name, *args), expected)


def test_lazy_functions_evaluate_only_the_branch_taken():
    seen = []

    def thunk(label, result):
        return lambda: seen.append(label) or result

    FUNCTIONS["IF"].impl(ctx(), thunk("cond", True), thunk("then", 1), thunk("else", 2))
    FUNCTIONS["IFERROR"].impl(ctx(), thunk("value", 3), thunk("fallback", 0))
    FUNCTIONS["IFS"].impl(ctx(), thunk("c1", True), thunk("v1", 1), thunk("c2", True), thunk("v2", 2))
    FUNCTIONS["SWITCH"].impl(ctx(), thunk("x", 1), thunk("k1", 1), thunk("r1", "a"), thunk("k2", 2),
                             thunk("r2", "b"))
    assert seen == ["cond", "then", "value", "c1", "v1", "x", "k1", "r1"]


@pytest.mark.parametrize("name, count, problem", [
    ("IF", 4, "IF takes 2 or 3 arguments, got 4"),
    ("IF", 1, "IF takes 2 or 3 arguments, got 1"),
    ("IFS", 3, "IFS takes pairs of condition and value, got 3 arguments"),
    ("SWITCH", 2, "SWITCH takes at least 3 arguments, got 2"),
    ("NOT", 2, "NOT takes 1 argument, got 2"),
    ("TRUE", 1, "TRUE takes no arguments, got 1"),
    ("AND", 0, "AND takes at least 1 argument, got 0"),
])
def test_arity_problems_are_worded_for_users(name, count, problem):
    assert FUNCTIONS[name].arity_problem(count).startswith(problem)


def test_branch_result_types():
    assert FUNCTIONS["IF"].result_for(["boolean", "number", "number"]) == "number"
    assert FUNCTIONS["IF"].result_for(["boolean", "number", "text"]) == "any"
    assert FUNCTIONS["IF"].result_for(["boolean", "text"]) == "text"
    assert FUNCTIONS["IFS"].result_for(["boolean", "text", "boolean", "text"]) == "text"
    assert FUNCTIONS["SWITCH"].result_for(["text", "text", "number", "text", "number", "number"]) == "number"
    assert FUNCTIONS["SWITCH"].result_for(["text", "text", "number", "text"]) == "any"
    assert FUNCTIONS["IFERROR"].result_for(["number", "number"]) == "number"

"""Array functions: UNIQUE and INDEX."""
from __future__ import annotations

from datetime import date

import pytest

from engine.formula.functions import FUNCTIONS
from engine.formula.values import DIV0, NA, REF, VALUE
from tests.support.formula_functions import call, same


@pytest.mark.parametrize("name, args, expected", [
    ("UNIQUE", (["华东", "华南", "华东"],), ["华东", "华南"]),
    ("UNIQUE", (["VIP", "vip", "Vip", "gold"],), ["VIP", "gold"]),
    ("UNIQUE", ([1, 1.0, "1", None, "", 2],), [1, "1", 2]),
    ("UNIQUE", ([date(2025, 1, 1), date(2025, 1, 1)],), [date(2025, 1, 1)]),
    ("UNIQUE", ([NA, NA, 1],), [NA, 1]),
    ("UNIQUE", ([True, "TRUE"],), [True, "TRUE"]),
    ("UNIQUE", ([],), []),
    ("UNIQUE", ("solo",), ["solo"]),
    ("INDEX", (["a", "b", "c"], 2), "b"), ("INDEX", (["a", "b", "c"], -1), "c"),
    ("INDEX", (["a", "b", "c"], 4), REF), ("INDEX", (["a"], 0), REF), ("INDEX", ([], 1), REF),
    ("INDEX", ("x", 1), "x"), ("INDEX", (["a", DIV0], 2), DIV0), ("INDEX", (["a"], "x"), VALUE),
    ("INDEX", ([[1, 2]], 1), VALUE),
])
def test_arrays(name, args, expected):
    assert same(call(name, *args), expected)


def test_index_result_type_is_the_element_type():
    assert FUNCTIONS["INDEX"].result_for(["array:number", "number"]) == "number"
    assert FUNCTIONS["INDEX"].result_for(["any", "number"]) == "any"

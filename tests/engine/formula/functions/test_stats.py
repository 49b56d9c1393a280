"""Statistics functions, dates included."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal as D

import pytest

from engine.formula.values import DIV0, NA, NUM, VALUE
from tests.support.formula_functions import SH, call, same

D1, D2, D3 = date(2025, 1, 15), date(2025, 3, 1), date(2024, 12, 31)


@pytest.mark.parametrize("name, args, expected", [
    ("AVERAGE", ([3, 4, 8],), 5), ("AVERAGE", (1, 2), 1.5), ("AVERAGE", ([1, "x", None, 2],), 1.5),
    ("AVERAGE", ([],), DIV0), ("AVERAGE", ("abc",), DIV0), ("AVERAGE", ([1, NA],), NA),
    ("AVERAGE", (1, 2, 2), D("1.666666666666666666666666666666667")),
    ("COUNT", ([1, "a", 3],), 2), ("COUNT", (1, "2", True, "x", None), 3),
    ("COUNT", ([1, True, "2", None, NA],), 1),        # in arrays only numbers (and dates)
    ("COUNT", ([D1, 2],), 2), ("COUNT", (NA, 1), 1),
    ("COUNTA", ([1, "a", 3],), 3), ("COUNTA", ([1, None, "", NA],), 3), ("COUNTA", (None, None), 0),
    ("COUNTBLANK", ([1, None, "", "x"],), 2), ("COUNTBLANK", (None,), 1), ("COUNTBLANK", ([],), 0),
    ("MAX", ([4, 19, -2],), 19), ("MAX", (4, 19, -2), 19), ("MAX", ([],), 0), ("MAX", (["a"],), 0),
    ("MAX", ([-5, None],), -5), ("MAX", ([1, DIV0],), DIV0), ("MAX", (1, "7"), 7),
    ("MIN", ([4, 19, -2],), -2), ("MIN", ([],), 0), ("MIN", (88000 * 0.03, 2000), 2000),
    ("MEDIAN", (1, 2, 3, 4), 2.5), ("MEDIAN", ([5, 1, 3],), 3), ("MEDIAN", ([],), NUM),
    ("MEDIAN", ([1, "x", 9],), 5),
    ("LARGE", ([4, 19, -2, 7], 2), 7), ("LARGE", ([4, 19, -2, 7], 1), 19), ("LARGE", ([4, 19, -2, 7], 4), -2),
    ("LARGE", ([4, 19], 3), NUM), ("LARGE", ([4, 19], 0), NUM), ("LARGE", ([4, 19], -1), NUM),
    ("LARGE", ([4, 19, 7], 1.2), 7),                  # k rounds up, as Excel
    ("LARGE", ([], 1), NUM), ("LARGE", ([3, 3, 1], 2), 3), ("LARGE", ([1], "x"), VALUE),
    ("LARGE", (5, 1), 5),
    ("SMALL", ([4, 19, -2, 7], 2), 4), ("SMALL", ([4, 19], 3), NUM), ("SMALL", ([4, 19, "x"], 2), 19),
])
def test_statistics(name, args, expected):
    assert same(call(name, *args), expected)


@pytest.mark.parametrize("name, args, expected", [
    ("MAX", ([D1, D2, D3],), D2), ("MIN", ([D1, D2, D3],), D3), ("MAX", ([D1, None],), D1),
    ("LARGE", ([D1, D2, D3], 2), D1), ("SMALL", ([D1, D2, D3], 1), D3),
    ("MEDIAN", ([D1, D2, D3],), D1), ("AVERAGE", ([date(2025, 1, 1), date(2025, 1, 3)],), date(2025, 1, 2)),
    ("MAX", ([datetime(2025, 1, 1, 9, tzinfo=SH), datetime(2025, 1, 1, 18, tzinfo=SH)],),
     datetime(2025, 1, 1, 18, tzinfo=SH)),
])
def test_aggregates_of_dates_give_dates(name, args, expected):
    assert call(name, *args) == expected


def test_mixed_dates_and_numbers_give_numbers():
    assert call("MAX", [D1, 1]) == 45672


def test_many_values_stay_exact():
    values = [0.01] * 10_000
    assert str(call("SUM", values)) == "100.00"
    assert call("AVERAGE", values) == call("SUM", [0.01])

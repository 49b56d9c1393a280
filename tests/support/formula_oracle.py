"""The oracle vectors (tests/engine/formula/oracle): formulas whose results a real
spreadsheet engine computed, the differences from it that are deliberate, and how a
result is compared with the spreadsheet's (numbers within a relative 1e-9: the engine
printed 15 significant digits, Formwork computes with 34)."""
from __future__ import annotations

import json
from decimal import Decimal

from tests.support.paths import FORMULA_ORACLE as ORACLE

VECTORS = json.loads((ORACLE / "vectors.json").read_text(encoding="utf-8"))

# id -> (what Formwork gives instead, why)
DELIBERATE_DIFFERENCES = {
    "P036": ({"error": "#NUM!"},
             "SQRT of a negative number: LibreOffice reports its 'invalid argument' error, "
             "which maps to #VALUE!; Excel gives #NUM!, and so does Formwork."),
    "P078": ({"error": "#NUM!"},
             "DATEDIF with a start after the end: LibreOffice's 'invalid argument' maps to "
             "#VALUE!; Excel documents #NUM!, and Formwork follows Excel."),
}


def matches(actual: dict, expected: dict) -> bool:
    if set(actual) != set(expected):
        return False
    if "number" in expected:
        got, want = Decimal(str(actual["number"])), Decimal(str(expected["number"]))
        return abs(got - want) <= abs(want) * Decimal("1e-9") or got == want
    return actual == expected

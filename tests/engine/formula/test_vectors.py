"""The oracle vectors: formulas whose results a real spreadsheet engine computed.

Every vector must give the spreadsheet's answer with BOTH the reference evaluator and
the compiled one (numbers within a relative tolerance of 1e-9: the engine printed 15
significant digits, Formwork computes with 34). A deliberate difference is listed in
DELIBERATE_DIFFERENCES with its reason, and checked to give Formwork's answer instead,
so that it stays deliberate. docs/formula-language.md lists them for users.
"""
from __future__ import annotations

import pytest

from engine.formula import EvalContext, compile_formula, evaluate, from_json, parse, to_json
from tests.support.formula_oracle import DELIBERATE_DIFFERENCES, ORACLE, VECTORS, matches
from tests.support.paths import REPO_ROOT

SHARED_VECTORS = REPO_ROOT.parent / "shared" / "formula-oracle" / "vectors.json"


def results(vector: dict) -> tuple[dict, dict]:
    formula = parse(vector["formula"])
    inputs = {key: from_json(value) for key, value in vector["inputs"].items()}
    ctx = EvalContext()
    return (to_json(evaluate(formula, inputs, ctx)),
            to_json(compile_formula(formula)(inputs, ctx)))


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_vector(vector):
    expected = vector["expect"]
    if vector["id"] in DELIBERATE_DIFFERENCES:
        expected = DELIBERATE_DIFFERENCES[vector["id"]][0]
    reference, compiled = results(vector)
    assert matches(reference, expected), f"{vector['formula']}: reference gave {reference}"
    assert matches(compiled, expected), f"{vector['formula']}: compiled gave {compiled}"


def test_deliberate_differences_name_real_vectors_and_differ():
    ids = {v["id"]: v for v in VECTORS}
    for vector_id, (ours, reason) in DELIBERATE_DIFFERENCES.items():
        assert vector_id in ids and reason
        assert not matches(ours, ids[vector_id]["expect"])


def test_the_copy_is_the_shared_oracle():
    """The repo carries a copy (CI runs on a fresh clone); it must not drift."""
    if not SHARED_VECTORS.exists():
        pytest.skip(f"no shared oracle at {SHARED_VECTORS} (a fresh clone): nothing to compare")
    assert (ORACLE / "vectors.json").read_bytes() == SHARED_VECTORS.read_bytes()


def test_every_vector_has_one_expectation_and_an_id():
    assert len({v["id"] for v in VECTORS}) == len(VECTORS)
    for vector in VECTORS:
        assert len(vector["expect"]) == 1, vector["id"]

"""Differential property tests: random formulas over random records must give the
same value, of the same type, by the reference evaluator (simpleeval) and by the
compiled one (its inlined fast path, its loop over many rows and its safe path)."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.formula import EvalContext, FormulaSyntaxError, compile_formula, evaluate, parse
from engine.formula.values import type_name
from tests.support.formula_strategies import formulas, inputs

SETTINGS = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def same(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if type(a) is list:
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


@SETTINGS
@given(text=formulas(), rows=st.lists(inputs(), min_size=1, max_size=4))
def test_reference_and_compiled_agree(text, rows):
    try:
        formula = parse(text)
    except FormulaSyntaxError:
        return      # a random formula may be too deep; the parser's refusal is tested elsewhere
    compiled = compile_formula(formula)
    ctx = EvalContext()
    for row in rows:
        expected = evaluate(formula, row, ctx)
        type_name(expected)          # a formula value, whatever happened
        fast = compiled(row, ctx)
        ctx.begin()
        safe = compiled.safe(row, ctx)
        assert same(expected, fast), f"{text} over {row}: reference {expected!r}, compiled {fast!r}"
        assert same(expected, safe), f"{text} over {row}: reference {expected!r}, safe {safe!r}"
    bulk = compiled.many(rows, ctx)          # the loop of evaluate_many
    assert all(same(evaluate(formula, row, ctx), value) for row, value in zip(rows, bulk))


@SETTINGS
@given(rows=st.lists(inputs(), min_size=1, max_size=3))
def test_the_reward_formula_agrees(rows):
    text = ('IF(AND(n1 >= 10000, s1 = "VIP"), MIN(ROUND(n1 * n2%, 2), n3), '
            'ROUND(n1 * 2%, 2) + n3)')
    formula = parse(text)
    ctx = EvalContext()
    for row in rows:
        assert same(evaluate(formula, row, ctx), compile_formula(formula)(row, ctx))

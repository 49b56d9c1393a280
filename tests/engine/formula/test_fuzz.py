"""The parser and the evaluators under fuzzing: whatever text comes in, only a
FormulaSyntaxError comes out of the parser; whatever formula parses, evaluation gives
a value (never an exception, never a hang) within the step budget."""
from __future__ import annotations

import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.formula import (
    EvalContext, FormulaSyntaxError, Limits, compile_formula, evaluate, parse,
)
from engine.formula.values import type_name
from tests.support.formula_strategies import TOKENS, formulas, inputs, token_soups

SETTINGS = settings(max_examples=250, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def parse_or_none(text):
    try:
        return parse(text)
    except FormulaSyntaxError as error:
        # Every refusal says where: a position inside (or just after) the text.
        assert 0 <= error.position <= len(text)
        assert error.line >= 1 and error.column >= 1
        assert " at " in str(error)
        error.excerpt()
        return None


@SETTINGS
@given(st.text(max_size=200))
def test_random_text_gives_a_formula_or_a_syntax_error(text):
    parse_or_none(text)


@SETTINGS
@given(st.text(alphabet=st.sampled_from(list("()+-*/^%&=<>!,.{}\"' 1a_")), max_size=120))
def test_operator_soup_gives_a_formula_or_a_syntax_error(text):
    parse_or_none(text)


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@SETTINGS
@given(text=token_soups, row=inputs())
def test_token_soups_that_parse_evaluate_to_values(text, row):
    formula = parse_or_none(text)
    if formula is None:
        return
    collected = _Collect()
    logger = logging.getLogger("engine.formula")
    logger.addHandler(collected)
    try:
        ctx = EvalContext()
        type_name(evaluate(formula, row, ctx))
        type_name(compile_formula(formula)(row, ctx))
    finally:
        logger.removeHandler(collected)
    # A defect shows as a logged exception even though the user only sees #VALUE!.
    assert not collected.records, [r.getMessage() for r in collected.records]


@SETTINGS
@given(formulas(max_leaves=25), inputs(), st.integers(1, 200))
def test_random_formulas_evaluate_within_any_budget(text, row, budget):
    """With a tiny budget an evaluation stops at once with #NUM!; never raises."""
    formula = parse_or_none(text)
    if formula is None:
        return
    ctx = EvalContext(limits=Limits(max_steps=budget))
    for value in (evaluate(formula, row, ctx), compile_formula(formula)(row, ctx)):
        type_name(value)


@pytest.mark.parametrize("text", [
    "(" * 10_000 + "1" + ")" * 10_000,
    "-" * 7_000 + "1",
    "1" + "%" * 7_000,
    "+".join(["1"] * 3_000),
    "SUM(" * 2_000 + "1" + ")" * 2_000,
    "{" * 5_000,
    '"' * 7_999,
    "a." * 3_000 + "b",
    "x" * 8_001,
    "IF(" + ",".join(["1"] * 3_000) + ")",
    "{" + ",".join(["1"] * 2_000) + "}",
    "1e" + "9" * 5_000,
    "9" * 7_000,
], ids=lambda text: f"{text[:12]}..({len(text)} chars)")
def test_pathological_inputs_are_refused_quickly(text):
    with pytest.raises(FormulaSyntaxError):
        parse(text)


def test_every_token_alone_parses_or_is_refused():
    for token in TOKENS:
        parse_or_none(token)

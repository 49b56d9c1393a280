"""Both evaluators (reference on simpleeval, compiled Python): field paths, laziness,
error propagation, limits, safety, and the compiled path's fallback."""
from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest

from engine.formula import (
    EvalContext, ErrorValue, Limits, compile_formula, evaluate, evaluate_many, parse,
)
from engine.formula.functions import FUNCTIONS

D = Decimal


def both(text, inputs=None, ctx=None, functions=None):
    """The value by the reference and by the compiled evaluator; they must agree."""
    formula = parse(text, functions)
    ctx = ctx or EvalContext()
    reference = evaluate(formula, inputs or {}, ctx, functions)
    compiled = compile_formula(formula, functions)(inputs or {}, ctx)
    assert reference == compiled and type(reference) is type(compiled), (reference, compiled)
    return reference


# ---- field paths -------------------------------------------------------------------------

def test_top_level_fields():
    assert both("amount * 2", {"amount": D("12.5")}) == D("25.0")


def test_relation_path_from_a_flat_key_or_a_nested_record():
    assert both('customer.level & "!"', {"customer.level": "VIP"}) == "VIP!"
    assert both('customer.level & "!"', {"customer": {"level": "VIP"}}) == "VIP!"


def test_flat_key_wins_over_nested_data():
    inputs = {"customer.level": "flat", "customer": {"level": "nested"}}
    assert both("customer.level", inputs) == "flat"


def test_subform_column_is_an_array():
    inputs = {"items": [{"price": D(3), "qty": D(2)}, {"price": D(4), "qty": D(1)}]}
    assert both("SUM(items.price)", inputs) == D(7)
    assert both("items.price", inputs) == [D(3), D(4)]


def test_subform_of_each_record_of_a_multiple_relation_is_one_flat_array():
    inputs = {"orders": [{"items": [{"price": D(1)}, {"price": D(2)}]},
                         {"items": [{"price": D(5)}]}]}
    assert both("SUM(orders.items.price)", inputs) == D(8)


def test_empty_relation_gives_empty():
    assert both("customer.level", {"customer": None}) is None
    assert both('ISBLANK(customer.level)', {"customer": None}) is True


@pytest.mark.parametrize("text, inputs, error", [
    ("missing + 1", {}, "#NAME?"),                               # the inputs have no such key
    ("customer.nothing", {"customer": {"level": "x"}}, "#REF!"),  # the record has no such field
    ("amount.level", {"amount": D(3)}, "#VALUE!"),                 # a number has no fields
    ("customer", {"customer": {"level": "x"}}, "#VALUE!"),         # a whole record is no value
    ("a.__class__", {"a": D(1)}, "#VALUE!"),                       # no attribute access
])
def test_path_errors(text, inputs, error):
    assert both(text, inputs) == ErrorValue(error)


def test_python_numbers_in_inputs_become_exact_decimals():
    assert both("a + b", {"a": 0.1, "b": 0.2}) == D("0.3")
    assert both("a * 2", {"a": 3}) == D(6)
    assert both("SUM(xs)", {"xs": (1, 2.5)}) == D("3.5")


# ---- semantics the evaluators (not the library) own ----------------------------------------

def test_lazy_if_evaluates_only_the_branch_taken():
    assert both("IF(b = 0, 0, a / b)", {"a": D(1), "b": D(0)}) == D(0)
    assert both("IF(b = 0, a / b, 0)", {"a": D(1), "b": D(0)}) == ErrorValue("#DIV/0!")


@pytest.mark.parametrize("condition, expected", [
    ("TRUE", "yes"), ("FALSE", "no"), ("1", "yes"), ("0", "no"), ('"TRUE"', "yes"),
    ('"false"', "no"), ('"maybe"', ErrorValue("#VALUE!")), ("1/0", ErrorValue("#DIV/0!")),
    ("blank", "no"),
])
def test_if_conditions(condition, expected):
    assert both(f'IF({condition}, "yes", "no")', {"blank": None}) == expected


def test_if_without_else_gives_false():
    assert both("IF(a > 1, 10)", {"a": D(0)}) is False


def test_errors_propagate_into_functions_leftmost_first():
    assert both("SUM(1, 1/0, SQRT(-1))") == ErrorValue("#DIV/0!")
    assert both("ROUND(a, 1/0)", {"a": ErrorValue("#N/A")}) == ErrorValue("#N/A")


def test_error_aware_functions_see_errors():
    assert both("ISERROR(1/0)") is True
    assert both("IFERROR(1/0, -1)") == D(-1)


def test_operators_leftmost_error_wins():
    assert both("(1/0) + SQRT(-1)") == ErrorValue("#DIV/0!")


def test_array_literal():
    assert both("SUM({1, 2, 3.5})") == D("6.5")
    assert both('{1, "a", TRUE}') == [D(1), "a", True]


def test_constant_folding_keeps_semantics():
    assert both("2%") == D("0.02")
    assert both('"a" & 1') == "a1"
    assert both("1/0") == ErrorValue("#DIV/0!")
    assert both("-3^2") == D(9)


@pytest.mark.parametrize("text, value, expected", [
    ("ROUND(a, 2)", "2.675", "2.68"), ("ROUND(a, 0)", "-2.5", "-3"), ("ROUND(a, -2)", "1250", "1300"),
    ("ROUND(a, 2)", "5", "5"), ("ROUND(a, 2.9)", "1.23456", "1.23"), ("ROUNDUP(a, 1)", "-3.21", "-3.3"),
    ("ROUNDDOWN(a, 1)", "-3.29", "-3.2"), ("ROUND(a, 2)", "1e40", "1e40"),
    ("ROUND(a, 400)", "1.5", "1.5"), ("ROUND(a, 2) & \"\"", "5", None),
])
def test_rounding_shortcut_of_the_compiled_path_agrees(text, value, expected):
    result = both(text, {"a": D(value)})
    if expected is None:
        assert result == "5"
    else:
        assert result == D(expected)


def test_logical_and_extreme_shortcuts_fall_back_on_other_types():
    assert both("AND(a, b)", {"a": True, "b": D(1)}) is True
    assert both("OR(a, b)", {"a": None, "b": False}) is False
    assert both("NOT(a)", {"a": "TRUE"}) is False
    assert both("MIN(a, b)", {"a": D(3), "b": "2"}) == D(2)
    assert both("MAX(a, b)", {"a": date(2025, 1, 2), "b": date(2025, 3, 1)}) == date(2025, 3, 1)
    assert both("MIN(a, b)", {"a": D(3), "b": ErrorValue("#N/A")}) == ErrorValue("#N/A")


# ---- limits: an evaluation never hangs and never raises out --------------------------------

def test_step_budget_gives_num():
    ctx = EvalContext(limits=Limits(max_steps=20))
    text = "+".join(["1"] * 30)
    assert both(text, ctx=ctx) == ErrorValue("#NUM!")


def test_step_budget_is_per_evaluation():
    ctx = EvalContext(limits=Limits(max_steps=20))
    formula = parse("a + 1")
    rows = [{"a": D(n)} for n in range(50)]
    assert evaluate_many(formula, rows, ctx) == [D(n + 1) for n in range(50)]
    assert [evaluate(formula, row, ctx) for row in rows] == [D(n + 1) for n in range(50)]


def test_huge_power_and_overflow_give_num():
    assert both("2 ^ 100000000") == ErrorValue("#NUM!")
    assert both("a * a", {"a": D("1e200")}) == ErrorValue("#NUM!")


def test_overflow_inside_iferror_is_caught_by_both():
    assert both("IFERROR(a * a, 0)", {"a": D("1e200")}) == D(0)
    assert both("IF(a > 0, IFERROR(a * a, -1))", {"a": D("1e200")}) == D(-1)


def test_text_limit_gives_value():
    big = "x" * 600_000
    assert both("a & a", {"a": big}) == ErrorValue("#VALUE!")


def test_a_defective_function_gives_value_and_is_logged(caplog):
    def broken(ctx, value):
        raise KeyError("bug")
    table = dict(FUNCTIONS)
    table["BROKEN"] = SimpleNamespace(
        name="BROKEN", impl=broken, min_args=1, max_args=1, lazy=False, propagate_errors=True,
        result_type="number", arg_types=("number",), volatile=False)
    with caplog.at_level(logging.ERROR, logger="engine.formula"):
        assert both("BROKEN(1) + 1", functions=table) == ErrorValue("#VALUE!")
    assert "raised instead of returning an error value" in caplog.text


# ---- safety of the compiled path -----------------------------------------------------------

def test_no_user_text_reaches_the_generated_source():
    hostile = "__import__('os').system('echo pwned')"
    text = f'IF(weird_key = "{hostile}", "{hostile}", 12345.678)'
    compiled = compile_formula(parse(text))
    assert hostile not in compiled.source and "weird_key" not in compiled.source
    assert "12345.678" not in compiled.source
    assert compiled({"weird_key": hostile}, EvalContext()) == hostile


def test_compiled_formulas_are_cached():
    formula = parse("amount * 3")
    assert compile_formula(formula) is compile_formula(parse("amount * 3"))


def test_nested_ifs_compile_to_linear_source():
    text = "IF(a=1, 1, " * 30 + "0" + ")" * 30
    compiled = compile_formula(parse(text))
    assert len(compiled.source) < 60_000
    assert compiled({"a": D(1)}, EvalContext()) == D(1)


# ---- the public API ------------------------------------------------------------------------

def test_evaluate_accepts_text_and_a_default_context():
    assert evaluate("=1+2", {}) == D(3)
    assert evaluate_many("a * 2", [{"a": D(1)}, {"a": None}]) == [D(2), D(0)]


def test_dates_flow_through_both():
    assert both("a + 30", {"a": date(2025, 1, 31)}) == date(2025, 3, 2)
    assert both("b - a", {"a": date(2024, 2, 28), "b": date(2024, 3, 1)}) == D(2)

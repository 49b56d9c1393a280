"""Calling library functions directly, as an evaluator would, without the parser."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from engine.formula.functions import FUNCTIONS
from engine.formula.values import EvalContext, ErrorValue

SH = ZoneInfo("Asia/Shanghai")
# A fixed clock for every test: Monday 2025-09-15 10:30 in Shanghai.
NOW = datetime(2025, 9, 15, 10, 30, tzinfo=SH)


def ctx(**overrides) -> EvalContext:
    return EvalContext(now=overrides.pop("now", NOW), **overrides)


def value(raw):
    """Test shorthand to a formula value: ints and floats become Decimals, lists recurse."""
    if isinstance(raw, bool) or raw is None or isinstance(raw, (str, Decimal, date, ErrorValue)):
        return raw
    if isinstance(raw, (int, float)):
        return Decimal(repr(raw)) if isinstance(raw, float) else Decimal(raw)
    if isinstance(raw, list):
        return [value(item) for item in raw]
    raise TypeError(raw)


def call(name: str, *args, context: EvalContext | None = None):
    """FUNCTIONS[name].impl(ctx, *args) with the evaluator's rules: the argument count is
    checked, error arguments short-circuit unless the function sees errors, lazy functions
    get thunks."""
    spec = FUNCTIONS[name]
    problem = spec.arity_problem(len(args))
    assert problem is None, problem
    context = context or ctx()
    values = [value(arg) for arg in args]
    if spec.lazy:
        return spec.impl(context, *[(lambda v=v: v) for v in values])
    if spec.propagate_errors:
        for item in values:
            if type(item) is ErrorValue:
                return item
    return spec.impl(context, *values)


def same(result, expected) -> bool:
    """Equal as formula values: numbers by value (2.50 == 2.5), types must agree."""
    expected = value(expected)
    if type(result) is not type(expected) and not (isinstance(result, datetime) and isinstance(expected, datetime)):
        return False
    if type(result) is list:
        return len(result) == len(expected) and all(same(r, e) for r, e in zip(result, expected))
    return result == expected

"""Every library function, given any values at all, returns a formula value: never raises.

Hypothesis draws argument lists of every kind (huge and tiny numbers, unicode text, text
that looks like numbers, dates, criteria or format codes, dates at the ends of the range,
errors, nested arrays) for every function in the table.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from engine.formula.functions import FUNCTIONS
from engine.formula.values import ERROR_CODES, ErrorValue, Limits, type_name
from tests.support.formula_functions import SH, ctx

numbers = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False, min_value=-10 ** 20, max_value=10 ** 20, places=6),
    st.sampled_from([Decimal(0), Decimal(1), Decimal(-1), Decimal("0.5"), Decimal("2.675"), Decimal("1E+308"),
                     Decimal("-9.99E+308"), Decimal("1E-300"), Decimal(45672), Decimal(10 ** 15), Decimal(366)]),
    st.integers(min_value=-400, max_value=400).map(Decimal),
)
texts = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", " ", "abc", "ABC", "3", "-2.5", "1,234.5", "50%", "¥12", "(7)", "TRUE", "false",
                     "2025-01-15", "2024/2/29", "2025年1月5日", "2025-01-15 09:30", "9:30", ">=10", "<>lost",
                     "张*", "?四", "~*", "#N/A", "=", "<>", "0.00", "#,##0", "yyyy-mm-dd", "hh:mm", "0%",
                     "0.00E+00", '"x"@', "[Red]0;(0)", "aaaa", "Y", "M", "D", "YM", "MD", "YD", "中文", "😀",
                     "\u3000张三\u3000", "*", ";;;", "0" * 30, "E+", "\\", '"']),
)
dates = st.one_of(st.dates(min_value=date(1900, 1, 1), max_value=date(9999, 12, 31)),
                  st.sampled_from([date(1, 1, 1), date(9999, 12, 31), date(2024, 2, 29), date(2025, 1, 31)]))
datetimes = st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(9999, 12, 30)).map(
    lambda moment: moment.replace(tzinfo=SH))
scalars = st.one_of(st.none(), st.booleans(), numbers, texts, dates, datetimes,
                    st.sampled_from([ErrorValue(code) for code in ERROR_CODES]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=6), max_leaves=8)


def arguments(spec):
    high = spec.max_args if spec.max_args is not None else spec.min_args + 4
    return st.integers(min_value=spec.min_args, max_value=min(high, spec.min_args + 5)).flatmap(
        lambda count: st.lists(values, min_size=count, max_size=count))


def call_any(spec, args):
    context = ctx(limits=Limits(max_text_length=10_000, max_array_length=1_000, max_steps=100_000))
    if spec.lazy:
        return spec.impl(context, *[(lambda v=v: v) for v in args])
    if spec.propagate_errors:
        for arg in args:
            if type(arg) is ErrorValue:
                return arg
    return spec.impl(context, *args)


def is_formula_value(result) -> bool:
    type_name(result)          # raises TypeError for anything that is not a formula value
    if type(result) is list:
        return all(is_formula_value(item) for item in result)
    return type(result) is not int and type(result) is not float


NAMES = sorted(FUNCTIONS)


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(NAMES).flatmap(lambda name: st.tuples(st.just(name), arguments(FUNCTIONS[name]))))
def test_functions_never_raise(call):
    name, args = call
    result = call_any(FUNCTIONS[name], args)
    assert is_formula_value(result), f"{name}{tuple(args)!r} gave {result!r}"


@pytest.mark.parametrize("name", NAMES)
def test_function_handles_every_kind_of_single_value(name):
    """Each function with each kind of value in every position (the edges, not random)."""
    spec = FUNCTIONS[name]
    count = max(spec.min_args, 1) if spec.max_args != 0 else 0
    samples = [None, True, Decimal(0), Decimal("-1E+308"), Decimal("1E-300"), "", "abc", "2025-01-15",
               date(2024, 2, 29), date(9999, 12, 31), datetime(2025, 1, 1, 9, tzinfo=SH),
               ErrorValue("#N/A"), [], [None, "x", Decimal(3), [date(1, 1, 1)]]]
    for position in range(count):
        for sample in samples:
            args = [Decimal(1)] * count
            args[position] = sample
            result = call_any(spec, args)
            assert is_formula_value(result), f"{name}{tuple(args)!r} gave {result!r}"

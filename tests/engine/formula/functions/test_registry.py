"""The function table itself: specs that say what the parser, checker and docs need."""
from __future__ import annotations

import pytest

from engine.formula.functions import FUNCTIONS
from engine.formula.functions.registry import (
    ARG_KINDS, FAMILIES, RESULT_TYPES, FunctionSpec, arity, function,
)
from engine.formula.values import DIV0, NUM
from tests.support.formula_functions import ctx


@pytest.mark.parametrize("signature, expected", [
    ("PI()", (0, 0)), ("ABS(number)", (1, 1)), ("ROUND(number, digits)", (2, 2)),
    ("TRUNC(number, [digits])", (1, 2)), ("SUM(number1, ...)", (1, None)),
    ("SUMPRODUCT(array1, [array2], ...)", (1, None)), ("IFS(condition1, value1, ...)", (2, None)),
    ("FIXED(number, [decimals], [no_commas])", (1, 3)),
])
def test_arity_is_read_from_the_signature(signature, expected):
    assert arity(signature) == expected


def test_every_spec_is_consistent():
    for name, spec in FUNCTIONS.items():
        assert isinstance(spec, FunctionSpec)
        assert spec.name == name == name.upper() and spec.signature.startswith(name + "(")
        assert set(spec.arg_types) <= ARG_KINDS, name
        assert spec.family in FAMILIES, name
        assert callable(spec.result_type) or spec.result_type.split(":")[0] in RESULT_TYPES, name
        if spec.max_args is not None:
            assert spec.min_args <= spec.max_args
            assert len(spec.arg_types) <= spec.max_args, name


def test_lazy_volatile_and_error_seeing_functions_are_the_right_ones():
    assert {n for n, s in FUNCTIONS.items() if s.lazy} == {"IF", "IFS", "SWITCH", "IFERROR", "IFNA"}
    assert {n for n, s in FUNCTIONS.items() if s.volatile} == {"TODAY", "NOW"}
    assert {n for n, s in FUNCTIONS.items() if not s.propagate_errors} == {
        "IFERROR", "IFNA", "ISEMPTY", "ISBLANK", "ISNUMBER", "ISTEXT", "ISLOGICAL", "ISERROR", "ISNA",
        "COUNT", "COUNTA", "COUNTBLANK", "UNIQUE"}


@pytest.mark.parametrize("name, arg_types, expected", [
    ("MAX", ["array:date"], "date"), ("MAX", ["array:number"], "number"), ("MAX", ["date", "date"], "date"),
    ("MAX", ["date", "number"], "number"), ("MIN", ["array:datetime"], "datetime"),
    ("LARGE", ["array:date", "number"], "date"), ("MEDIAN", ["array:date"], "date"),
    ("AVERAGE", ["array:number"], "number"), ("SUM", ["array:date"], "number"),
    ("MAXIFS", ["array:date", "array:text", "text"], "date"),
    ("AVERAGEIF", ["array:text", "text", "array:date"], "date"), ("AVERAGEIF", ["array:number", "text"], "number"),
    ("SPLIT", ["text", "text"], "array:text"), ("UNIQUE", ["array:text"], "array:text"),
    ("UNIQUE", ["any"], "array"), ("TODAY", [], "date"), ("NOW", [], "datetime"), ("LEN", ["text"], "number"),
])
def test_result_types_follow_the_arguments(name, arg_types, expected):
    assert FUNCTIONS[name].result_for(arg_types) == expected


def test_registering_refuses_duplicates_and_unknown_kinds():
    with pytest.raises(ValueError, match="registered twice"):
        function("SUM(x)", result="number", summary="", zh="", example="")(lambda ctx, x: x)
    with pytest.raises(ValueError, match="unknown argument kinds"):
        function("NEWFN(x)", result="number", args=("numbr",), summary="", zh="", example="")
    assert "NEWFN" not in FUNCTIONS


def test_arithmetic_failures_inside_a_function_become_error_values():
    guarded = FUNCTIONS["SUM"].impl.__wrapped__
    assert guarded is FUNCTIONS["SUM"].impl.unguarded
    from engine.formula.functions.registry import _guarded
    assert _guarded(lambda c: 1 / 0)(ctx()) == DIV0
    assert _guarded(lambda c: 10.0 ** 400)(ctx()) == NUM

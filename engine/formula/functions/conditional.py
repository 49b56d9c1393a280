"""Conditional aggregates: SUMIF SUMIFS AVERAGEIF AVERAGEIFS COUNTIF COUNTIFS MAXIFS MINIFS.

A range is an array (a subform column, a relation's values); a single value counts as
an array of one. Ranges used together must have the same length, else #VALUE!. Criteria
are read by `engine.formula.criteria` (">=10", "<>lost", "张*"). Errors in a criteria
range never match; an error in a value picked for the result is the result.
"""
from __future__ import annotations

from decimal import Decimal, localcontext
from typing import Any, Sequence

from engine.formula.criteria import matcher
from engine.formula.functions.args import array_arg, as_kind, numbers
from engine.formula.functions.registry import function, numbers_or_dates
from engine.formula.values import DIV0, FORMULA_CONTEXT, VALUE, ZERO, EvalContext, ErrorValue

_OMITTED: Any = object()   # an optional range left out (an empty field passed is None)


def _mask(ctx: EvalContext, pairs: Sequence[tuple[Any, Any]]) -> list[bool] | ErrorValue:
    """Which rows meet every (range, criterion) pair."""
    mask: list[bool] | None = None
    for cells, criterion in pairs:
        cells = array_arg(ctx, cells)
        test = matcher(criterion)
        if type(test) is ErrorValue:
            return test
        if mask is None:
            mask = [test(cell) for cell in cells]
        elif len(cells) != len(mask):
            return VALUE
        else:
            mask = [keep and test(cell) for keep, cell in zip(mask, cells)]
    return mask or []


def _picked(ctx: EvalContext, values: Any, mask: list[bool]) -> list | ErrorValue:
    """The values of the rows the mask keeps (as one array for `numbers`)."""
    cells = array_arg(ctx, values)
    if len(cells) != len(mask):
        return VALUE
    return [cell for keep, cell in zip(mask, cells) if keep]


def _pairs_after(first: int, name: str):
    def check(count: int) -> str | None:
        if (count - first) % 2:
            return f"{name} takes pairs of criteria range and criterion, got {count} arguments"
        return None
    return check


def _matched_numbers(ctx: EvalContext, values: Any, pairs: Sequence[tuple[Any, Any]]):
    mask = _mask(ctx, pairs)
    if type(mask) is ErrorValue:
        return mask
    picked = _picked(ctx, values, mask)
    if type(picked) is ErrorValue:
        return picked
    return numbers(ctx, [picked])


def _sum(found) -> Decimal:
    with localcontext(FORMULA_CONTEXT):
        return sum(found, ZERO)


def _average(ctx: EvalContext, found) -> Any:
    if not found:
        return DIV0
    with localcontext(FORMULA_CONTEXT):
        return as_kind(ctx, sum(found, ZERO) / len(found), found.kind)


def _pairs(args: Sequence[Any]) -> list[tuple[Any, Any]]:
    return list(zip(args[0::2], args[1::2]))


@function("SUMIF(range, criteria, [sum_range])", result="number", args=("array", "criteria", "array"),
          summary="Sums sum_range (or range itself) where range meets the criterion.",
          zh="对满足条件的行求和：range 满足条件时累加 sum_range（省略时累加 range 本身）。",
          example='SUMIF(stages, "won", amounts)')
def SUMIF(ctx: EvalContext, cells: Any, criterion: Any, values: Any = _OMITTED) -> Any:
    found = _matched_numbers(ctx, cells if values is _OMITTED else values, [(cells, criterion)])
    return found if type(found) is ErrorValue else _sum(found)


@function("SUMIFS(sum_range, criteria_range1, criteria1, ...)", result="number",
          args=("array", "array", "criteria"), arity_check=_pairs_after(1, "SUMIFS"),
          summary="Sums sum_range where every criteria range meets its criterion.",
          zh="对同时满足所有条件的行求和。", example='SUMIFS(amounts, stages, "won", amounts, ">=50")')
def SUMIFS(ctx: EvalContext, values: Any, *conditions: Any) -> Any:
    if len(conditions) % 2:
        return VALUE
    found = _matched_numbers(ctx, values, _pairs(conditions))
    return found if type(found) is ErrorValue else _sum(found)


def _averageif_result(arg_types: list[str]) -> str:
    """The average is taken over average_range when given, else over range."""
    return numbers_or_dates(2 if len(arg_types) > 2 else 0)(arg_types)


@function("AVERAGEIF(range, criteria, [average_range])", result=_averageif_result,
          args=("array", "criteria", "array"),
          summary="The mean of average_range (or range) where range meets the criterion; "
                  "#DIV/0! when no row does.",
          zh="满足条件的行的平均值；没有满足条件的行时返回 #DIV/0!。",
          example='AVERAGEIF(amounts, ">100")')
def AVERAGEIF(ctx: EvalContext, cells: Any, criterion: Any, values: Any = _OMITTED) -> Any:
    found = _matched_numbers(ctx, cells if values is _OMITTED else values, [(cells, criterion)])
    return found if type(found) is ErrorValue else _average(ctx, found)


@function("AVERAGEIFS(average_range, criteria_range1, criteria1, ...)", result=numbers_or_dates(0),
          args=("array", "array", "criteria"), arity_check=_pairs_after(1, "AVERAGEIFS"),
          summary="The mean of average_range where every criteria range meets its criterion.",
          zh="同时满足所有条件的行的平均值。", example='AVERAGEIFS(amounts, stages, "won")')
def AVERAGEIFS(ctx: EvalContext, values: Any, *conditions: Any) -> Any:
    if len(conditions) % 2:
        return VALUE
    found = _matched_numbers(ctx, values, _pairs(conditions))
    return found if type(found) is ErrorValue else _average(ctx, found)


@function("COUNTIF(range, criteria)", result="number", args=("array", "criteria"),
          summary="How many values of range meet the criterion.", zh="统计满足条件的值的个数。",
          example='COUNTIF(stages, "won")')
def COUNTIF(ctx: EvalContext, cells: Any, criterion: Any) -> Any:
    mask = _mask(ctx, [(cells, criterion)])
    return mask if type(mask) is ErrorValue else Decimal(sum(mask))


@function("COUNTIFS(criteria_range1, criteria1, ...)", result="number", args=("array", "criteria"),
          arity_check=_pairs_after(0, "COUNTIFS"),
          summary="How many rows meet every criterion.", zh="统计同时满足所有条件的行数。",
          example='COUNTIFS(stages, "won", amounts, ">=50")')
def COUNTIFS(ctx: EvalContext, *conditions: Any) -> Any:
    if len(conditions) % 2:
        return VALUE
    mask = _mask(ctx, _pairs(conditions))
    return mask if type(mask) is ErrorValue else Decimal(sum(mask))


def _extreme_ifs(name: str, pick, summary: str, zh: str, example: str):
    @function(f"{name}({name[:3].lower()}_range, criteria_range1, criteria1, ...)",
              result=numbers_or_dates(0),
              args=("array", "array", "criteria"), arity_check=_pairs_after(1, name),
              summary=summary, zh=zh, example=example)
    def impl(ctx: EvalContext, values: Any, *conditions: Any) -> Any:
        if len(conditions) % 2:
            return VALUE
        found = _matched_numbers(ctx, values, _pairs(conditions))
        if type(found) is ErrorValue:
            return found
        return as_kind(ctx, pick(found), found.kind) if found else ZERO
    impl.__name__ = name
    return impl


MAXIFS = _extreme_ifs("MAXIFS", max, "The largest value where every criterion is met (0 if none).",
                      "满足所有条件的行中的最大值（没有时为 0）。", 'MAXIFS(amounts, stages, "won")')
MINIFS = _extreme_ifs("MINIFS", min, "The smallest value where every criterion is met (0 if none).",
                      "满足所有条件的行中的最小值（没有时为 0）。", 'MINIFS(amounts, stages, "won")')

"""Statistics: AVERAGE COUNT COUNTA COUNTBLANK MAX MIN MEDIAN LARGE SMALL.

They read their numbers by the aggregate rules of `args.numbers` (arrays give their
numbers and dates; text and empties are skipped). MAX, MIN, MEDIAN, LARGE, SMALL and
AVERAGE of dates give a date: MAX(follow_ups.date) is the latest follow-up.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, ROUND_CEILING, localcontext
from typing import Any

from engine.formula.functions.args import as_kind, number_arg, numbers, values_of
from engine.formula.functions.registry import function, numbers_or_dates
from engine.formula.values import (
    DIV0, FORMULA_CONTEXT, NUM, ZERO, EvalContext, ErrorValue, parse_number_text,
)

_C = FORMULA_CONTEXT
_TWO = Decimal(2)


@function("AVERAGE(number1, ...)", result=numbers_or_dates(), args=("numbers",),
          summary="The arithmetic mean; #DIV/0! when there are no numbers.",
          zh="算术平均值；没有数字时返回 #DIV/0!。", example="AVERAGE(3, 4, 8)")
def AVERAGE(ctx: EvalContext, *args: Any) -> Any:
    found = numbers(ctx, args)
    if type(found) is ErrorValue:
        return found
    if not found:
        return DIV0
    with localcontext(_C):
        return as_kind(ctx, sum(found, ZERO) / len(found), found.kind)


def _counts_as_number(value: Any, single: bool) -> bool:
    kind = type(value)
    if kind is Decimal or kind is date or kind is datetime:
        return True
    if single and kind is bool:
        return True
    return single and kind is str and parse_number_text(value) is not None


@function("COUNT(value1, ...)", result="number", args=("values",), propagate_errors=False,
          summary="How many numbers (and dates) there are; other values and errors are not counted.",
          zh="统计数字（及日期）的个数；其他值和错误值不计。", example='COUNT(1, "a", 3)')
def COUNT(ctx: EvalContext, *args: Any) -> Decimal:
    total = 0
    for arg in args:
        if type(arg) is list:
            items = values_of(ctx, [arg])
            total += sum(1 for item in items if _counts_as_number(item, single=False))
        elif _counts_as_number(arg, single=True):
            total += 1
    return Decimal(total)


@function("COUNTA(value1, ...)", result="number", args=("values",), propagate_errors=False,
          summary="How many values are not empty (empty text and errors count).",
          zh="统计非空值的个数（空文本和错误值也计入）。", example='COUNTA(1, "a", "")')
def COUNTA(ctx: EvalContext, *args: Any) -> Decimal:
    return Decimal(sum(1 for value in values_of(ctx, args) if value is not None))


@function("COUNTBLANK(array)", result="number", args=("array",), propagate_errors=False,
          summary="How many values are empty (a blank field or empty text).",
          zh="统计空值（空白字段或空文本）的个数。", example="COUNTBLANK(notes)")
def COUNTBLANK(ctx: EvalContext, values: Any) -> Decimal:
    return Decimal(sum(1 for value in values_of(ctx, [values]) if value is None or value == ""))


def _extreme(name: str, pick, summary: str, zh: str, example: str):
    @function(f"{name}(number1, ...)", result=numbers_or_dates(), args=("numbers",),
              summary=summary, zh=zh, example=example)
    def impl(ctx: EvalContext, *args: Any) -> Any:
        found = numbers(ctx, args)
        if type(found) is ErrorValue:
            return found
        if not found:
            return ZERO
        return as_kind(ctx, pick(found), found.kind)
    impl.__name__ = name
    return impl


MAX = _extreme("MAX", max, "The largest number (0 when there are none); of dates, the latest.",
               "最大值（没有数字时为 0）；对日期取最晚的日期。", "MAX(4, 19, -2)")
MIN = _extreme("MIN", min, "The smallest number (0 when there are none); of dates, the earliest.",
               "最小值（没有数字时为 0）；对日期取最早的日期。", "MIN(4, 19, -2)")


@function("MEDIAN(number1, ...)", result=numbers_or_dates(), args=("numbers",),
          summary="The middle number; with an even count, the mean of the two middle ones.",
          zh="中位数；个数为偶数时取中间两个数的平均值。", example="MEDIAN(1, 2, 3, 4)")
def MEDIAN(ctx: EvalContext, *args: Any) -> Any:
    found = numbers(ctx, args)
    if type(found) is ErrorValue:
        return found
    if not found:
        return NUM
    ordered = sorted(found)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        value = ordered[middle]
    else:
        value = _C.divide(_C.add(ordered[middle - 1], ordered[middle]), _TWO)
    return as_kind(ctx, value, found.kind)


def _ranked(name: str, largest: bool, summary: str, zh: str, example: str):
    @function(f"{name}(array, k)", result=numbers_or_dates(0), args=("numbers", "number"),
              summary=summary, zh=zh, example=example)
    def impl(ctx: EvalContext, values: Any, k: Any) -> Any:
        found = numbers(ctx, [values] if type(values) is list else [[values]])
        rank = number_arg(k)
        if type(found) is ErrorValue:
            return found
        if type(rank) is ErrorValue:
            return rank
        position = int(rank.to_integral_value(rounding=ROUND_CEILING)) if abs(rank) < 10 ** 15 else 0
        if position < 1 or position > len(found):
            return NUM
        ordered = sorted(found, reverse=largest)
        return as_kind(ctx, ordered[position - 1], found.kind)
    impl.__name__ = name
    return impl


LARGE = _ranked("LARGE", True,
                "The k-th largest number; #NUM! when k is below 1 or beyond the count.",
                "第 k 大的数；k 小于 1 或超过个数时返回 #NUM!。", "LARGE(amounts, 2)")
SMALL = _ranked("SMALL", False,
                "The k-th smallest number; #NUM! when k is below 1 or beyond the count.",
                "第 k 小的数；k 小于 1 或超过个数时返回 #NUM!。", "SMALL(amounts, 2)")

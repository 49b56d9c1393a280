"""Math: SUM PRODUCT SUMPRODUCT, rounding (ROUND ROUNDUP ROUNDDOWN INT TRUNC CEILING
FLOOR), MOD ABS SIGN, POWER SQRT EXP LN LOG LOG10 PI.

All on exact Decimals in FORMULA_CONTEXT. Rounding functions round half away from
zero as Excel does (ROUND(2.675, 2) = 2.68 exactly, ROUND(-2.5, 0) = -3); the digits
argument may be negative (ROUND(1234, -2) = 1200).
"""
from __future__ import annotations

from decimal import (
    Decimal, InvalidOperation, ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_UP, ROUND_UP, localcontext,
)
from functools import lru_cache
from typing import Any

from engine.formula import operators
from engine.formula.functions.args import first_failure, int_arg, number_arg, numbers
from engine.formula.functions.registry import function
from engine.formula.values import (
    DIV0, FORMULA_CONTEXT, MAX_EXPONENT, NUM, ONE, VALUE, ZERO, EvalContext, ErrorValue, flatten,
)

_C = FORMULA_CONTEXT
# Logarithms are computed with guard digits, then rounded to the formula context, so
# LOG(8, 2) is exactly 3 rather than 2.999...9.
_GUARDED = _C.copy()
_GUARDED.prec = _C.prec + 8
PI_VALUE = Decimal("3.141592653589793238462643383279503")


# ---- sums and products -----------------------------------------------------------------

@function("SUM(number1, ...)", result="number", args=("numbers",),
          summary="The sum of the numbers; text, booleans and empties inside arrays are skipped.",
          zh="求和；数组中的文本、逻辑值和空值会被忽略。", example="SUM(1, 2, 3.5)")
def SUM(ctx: EvalContext, *args: Any) -> Any:
    found = numbers(ctx, args)
    if type(found) is ErrorValue:
        return found
    with localcontext(_C):
        return sum(found, ZERO)


@function("PRODUCT(number1, ...)", result="number", args=("numbers",),
          summary="The product of the numbers (0 when there are none).",
          zh="求乘积（没有数字时为 0）。", example="PRODUCT(2, 3, 4)")
def PRODUCT(ctx: EvalContext, *args: Any) -> Any:
    found = numbers(ctx, args)
    if type(found) is ErrorValue:
        return found
    if not found:
        return ZERO
    result = ONE
    for value in found:
        result = _C.multiply(result, value)
    return result


@function("SUMPRODUCT(array1, [array2], ...)", result="number", args=("array",),
          summary="Multiplies the arrays element by element and sums the products; arrays must "
                  "have the same length; non-numbers count as 0.",
          zh="将各数组对应元素相乘后求和；数组长度须相同，非数字按 0 计。",
          example="SUMPRODUCT(qty, price)")
def SUMPRODUCT(ctx: EvalContext, *arrays: Any) -> Any:
    columns = [list(flatten([array])) for array in arrays]
    length = len(columns[0])
    if any(len(column) != length for column in columns):
        return VALUE
    ctx.tick(length * len(columns))
    total = ZERO
    for row in zip(*columns):
        product = ONE
        for cell in row:
            if type(cell) is ErrorValue:
                return cell
            product = _C.multiply(product, cell if type(cell) is Decimal else ZERO)
        total = _C.add(total, product)
    return total


# ---- rounding --------------------------------------------------------------------------

@lru_cache(maxsize=256)
def _quantum(digits: int) -> Decimal:
    return Decimal(1).scaleb(-digits)


def round_to(value: Decimal, digits: int, rounding: str) -> Decimal:
    """`value` rounded to `digits` decimal places (negative: tens, hundreds...).

    A value with fewer places comes back padded (5 -> 5.00: the same number); where
    padding would pass the 34 digits of the context, the value is returned as it is.
    """
    if -digits > MAX_EXPONENT:
        return ZERO
    try:
        return value.quantize(_quantum(digits), rounding=rounding, context=_C)
    except InvalidOperation:
        if value.as_tuple().exponent >= -digits:
            return value                      # already has no more places than asked
        raise


def _rounder(signature: str, rounding: str, summary: str, zh: str, example: str, default_digits=None):
    name = signature.split("(", 1)[0]

    @function(signature, result="number", args=("number", "number"),
              summary=summary, zh=zh, example=example)
    def impl(ctx: EvalContext, value: Any, digits: Any = default_digits) -> Any:
        number, places = number_arg(value), int_arg(digits)
        failure = first_failure(number, places)
        if failure is not None:
            return failure
        return round_to(number, places, rounding)
    impl.__name__ = name
    return impl


ROUND = _rounder(
    "ROUND(number, digits)", ROUND_HALF_UP,
    "Rounds to the number of decimal places, halves away from zero (2.675 -> 2.68, -2.5 -> -3).",
    "四舍五入到指定小数位数（2.675 → 2.68，-2.5 → -3）；位数可为负数。", "ROUND(2.675, 2)")
ROUNDUP = _rounder(
    "ROUNDUP(number, digits)", ROUND_UP,
    "Rounds away from zero to the number of decimal places.", "向远离 0 的方向舍入到指定小数位数。",
    "ROUNDUP(-3.2, 0)")
ROUNDDOWN = _rounder(
    "ROUNDDOWN(number, digits)", ROUND_DOWN,
    "Rounds toward zero to the number of decimal places.", "向 0 的方向舍入（截断）到指定小数位数。",
    "ROUNDDOWN(3.99, 1)")
TRUNC = _rounder(
    "TRUNC(number, [digits])", ROUND_DOWN,
    "Cuts the number to the decimal places (0 by default), toward zero.",
    "截去指定位数（默认 0 位）之后的小数，向 0 取整。", "TRUNC(-3.9)", default_digits=ZERO)


@function("INT(number)", result="number", args=("number",),
          summary="Rounds down to the nearest integer (INT(-3.5) = -4).",
          zh="向下取整到最接近的整数（INT(-3.5) = -4）。", example="INT(-3.5)")
def INT(ctx: EvalContext, value: Any) -> Any:
    number = number_arg(value)
    if type(number) is ErrorValue:
        return number
    return round_to(number, 0, ROUND_FLOOR)


def _to_multiple(number: Decimal, significance: Decimal, rounding: str) -> Decimal:
    multiples = _C.divide(number, significance).to_integral_value(rounding=rounding)
    return _C.multiply(multiples, significance)


@function("CEILING(number, [significance])", result="number", args=("number", "number"),
          summary="Rounds up to a multiple of significance (1 by default); a negative number with "
                  "a negative significance rounds away from zero.",
          zh="向上舍入为基数（默认 1）的倍数；负数配负基数时向远离 0 的方向舍入。",
          example="CEILING(4.2, 0.5)")
def CEILING(ctx: EvalContext, value: Any, significance: Any = ONE) -> Any:
    number, step = number_arg(value), number_arg(significance)
    failure = first_failure(number, step)
    if failure is not None:
        return failure
    if not step or not number:
        return ZERO
    if number > 0 and step < 0:
        return NUM
    # With a positive step, up means toward +infinity; with both negative, away from zero.
    return _to_multiple(number, step, ROUND_CEILING if step > 0 else ROUND_UP)


@function("FLOOR(number, [significance])", result="number", args=("number", "number"),
          summary="Rounds down to a multiple of significance (1 by default); a negative number with "
                  "a negative significance rounds toward zero.",
          zh="向下舍入为基数（默认 1）的倍数；负数配负基数时向 0 的方向舍入。",
          example="FLOOR(-2.5, 2)")
def FLOOR(ctx: EvalContext, value: Any, significance: Any = ONE) -> Any:
    number, step = number_arg(value), number_arg(significance)
    failure = first_failure(number, step)
    if failure is not None:
        return failure
    if not number:
        return ZERO
    if not step:
        return DIV0
    if number > 0 and step < 0:
        return NUM
    return _to_multiple(number, step, ROUND_FLOOR if step > 0 else ROUND_DOWN)


# ---- signs and remainders --------------------------------------------------------------

@function("MOD(number, divisor)", result="number", args=("number", "number"),
          summary="The remainder of number / divisor, with the sign of the divisor "
                  "(MOD(-3, 2) = 1).", zh="求余数，结果的符号与除数相同（MOD(-3, 2) = 1）。",
          example="MOD(-3, 2)")
def MOD(ctx: EvalContext, value: Any, divisor: Any) -> Any:
    number, by = number_arg(value), number_arg(divisor)
    failure = first_failure(number, by)
    if failure is not None:
        return failure
    if not by:
        return DIV0
    remainder = _C.remainder(number, by)          # sign of the dividend
    if remainder and (remainder < 0) != (by < 0):
        remainder = _C.add(remainder, by)
    return remainder


@function("ABS(number)", result="number", args=("number",),
          summary="The absolute value.", zh="绝对值。", example="ABS(-12.5)")
def ABS(ctx: EvalContext, value: Any) -> Any:
    number = number_arg(value)
    return number if type(number) is ErrorValue else abs(number)


@function("SIGN(number)", result="number", args=("number",),
          summary="1 for a positive number, -1 for a negative one, 0 for zero.",
          zh="正数返回 1，负数返回 -1，零返回 0。", example="SIGN(-8)")
def SIGN(ctx: EvalContext, value: Any) -> Any:
    number = number_arg(value)
    if type(number) is ErrorValue:
        return number
    return Decimal((number > 0) - (number < 0))


# ---- powers and logarithms -------------------------------------------------------------

@function("POWER(number, power)", result="number", args=("number", "number"),
          summary="number raised to power, the same as number^power.",
          zh="乘幂，等同于 number^power。", example="POWER(1.05, 3)")
def POWER(ctx: EvalContext, base: Any, exponent: Any) -> Any:
    if type(base) is list or type(exponent) is list:
        return VALUE
    return operators.power(base, exponent)


@function("SQRT(number)", result="number", args=("number",),
          summary="The square root; #NUM! for a negative number.",
          zh="平方根；负数返回 #NUM!。", example="SQRT(16)")
def SQRT(ctx: EvalContext, value: Any) -> Any:
    number = number_arg(value)
    if type(number) is ErrorValue:
        return number
    return NUM if number < 0 else _C.sqrt(number)


@function("EXP(number)", result="number", args=("number",),
          summary="e raised to the number.", zh="e 的乘幂。", example="EXP(0)")
def EXP(ctx: EvalContext, value: Any) -> Any:
    number = number_arg(value)
    return number if type(number) is ErrorValue else _C.exp(number)


@function("LN(number)", result="number", args=("number",),
          summary="The natural logarithm; #NUM! for zero or a negative number.",
          zh="自然对数；零或负数返回 #NUM!。", example="LN(1)")
def LN(ctx: EvalContext, value: Any) -> Any:
    number = number_arg(value)
    if type(number) is ErrorValue:
        return number
    return NUM if number <= 0 else _C.ln(number)


@function("LOG(number, [base])", result="number", args=("number", "number"),
          summary="The logarithm to the base (10 by default).", zh="以 base 为底（默认 10）的对数。",
          example="LOG(8, 2)")
def LOG(ctx: EvalContext, value: Any, base: Any = Decimal(10)) -> Any:
    number, radix = number_arg(value), number_arg(base)
    failure = first_failure(number, radix)
    if failure is not None:
        return failure
    if number <= 0 or radix <= 0:
        return NUM
    if radix == 1:
        return DIV0
    if radix == 10:
        return _C.log10(number)
    return _C.plus(_GUARDED.divide(_GUARDED.ln(number), _GUARDED.ln(radix)))


@function("LOG10(number)", result="number", args=("number",),
          summary="The base-10 logarithm.", zh="以 10 为底的对数。", example="LOG10(1000)")
def LOG10(ctx: EvalContext, value: Any) -> Any:
    number = number_arg(value)
    if type(number) is ErrorValue:
        return number
    return NUM if number <= 0 else _C.log10(number)


@function("PI()", result="number", summary="π to 34 significant digits.",
          zh="圆周率 π（34 位有效数字）。", example="ROUND(PI(), 4)")
def PI(ctx: EvalContext) -> Decimal:
    return PI_VALUE

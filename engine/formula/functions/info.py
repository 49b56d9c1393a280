"""Information: ISEMPTY ISBLANK ISNUMBER ISTEXT ISLOGICAL ISERROR ISNA NA, and
CURRENTUSER.

The IS functions see error values (they do not propagate them) and never fail
themselves. CURRENTUSER reads the evaluation context: the signed-in user, as a member
field holds one (the user's id), so `sales_rep = CURRENTUSER()` compares like with like.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from engine.formula.functions.registry import function
from engine.formula.values import NA as NA_ERROR, EvalContext, ErrorValue


def _is_empty(value: Any) -> bool:
    if value is None or value == "":
        return True
    return type(value) is list and all(_is_empty(item) for item in value)


def _test(signature: str, test, summary: str, zh: str, example: str):
    name = signature.split("(", 1)[0]

    @function(signature, result="boolean", args=("any",), propagate_errors=False,
              summary=summary, zh=zh, example=example)
    def impl(ctx: EvalContext, value: Any) -> bool:
        return test(value)
    impl.__name__ = name
    return impl


ISEMPTY = _test(
    "ISEMPTY(value)", _is_empty,
    "TRUE for an empty value: a blank field, empty text, or an array with nothing in it.",
    "值为空时返回 TRUE：空字段、空文本，或没有任何值的数组（如空的子表单列）。", 'ISEMPTY("")')
ISBLANK = _test(
    "ISBLANK(value)", lambda value: value is None,
    "TRUE for a blank field only (empty text \"\" is not blank, as in Excel).",
    "仅当字段为空白时返回 TRUE（与 Excel 相同，空文本 \"\" 不算空白）。", 'ISBLANK("")')
ISNUMBER = _test(
    "ISNUMBER(value)", lambda value: type(value) is Decimal,
    "TRUE for a number (text that looks like a number is text; dates are dates).",
    "值为数字时返回 TRUE（看起来像数字的文本仍是文本，日期是日期）。", 'ISNUMBER("12")')
ISTEXT = _test(
    "ISTEXT(value)", lambda value: type(value) is str,
    "TRUE for text, empty text included.", "值为文本（包括空文本）时返回 TRUE。", "ISTEXT(12)")
ISLOGICAL = _test(
    "ISLOGICAL(value)", lambda value: type(value) is bool,
    "TRUE for TRUE or FALSE.", "值为逻辑值 TRUE 或 FALSE 时返回 TRUE。", "ISLOGICAL(1=1)")
ISERROR = _test(
    "ISERROR(value)", lambda value: type(value) is ErrorValue,
    "TRUE for any error value (#DIV/0!, #N/A, #VALUE!...).",
    "值为任何错误值（#DIV/0!、#N/A、#VALUE! 等）时返回 TRUE。", "ISERROR(1/0)")
ISNA = _test(
    "ISNA(value)", lambda value: value == NA_ERROR,
    "TRUE for the #N/A error only.", "仅当值为 #N/A 时返回 TRUE。", "ISNA(NA())")


@function("NA()", result="any", summary="The #N/A error: a value that is not available.",
          zh="返回错误值 #N/A（值不可用）。", example="NA()")
def NA(ctx: EvalContext) -> ErrorValue:
    return NA_ERROR


@function("CURRENTUSER()", result="number", reads_user=True,
          summary="The signed-in user, as a member field holds one (the user's id); empty when "
                  "nobody is signed in (command line, imports, background jobs).",
          zh="当前登录的用户（与成员字段的值相同，即用户编号）；无人登录时（命令行、导入、后台任务）为空。",
          example="CURRENTUSER()")
def CURRENTUSER(ctx: EvalContext) -> Decimal | None:
    user = ctx.user or {}
    user_id = user.get("id")
    return None if user_id is None else Decimal(int(user_id))

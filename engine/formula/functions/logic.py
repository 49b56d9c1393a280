"""Logic: IF IFS SWITCH AND OR NOT XOR IFERROR IFNA TRUE FALSE.

IF, IFS, SWITCH, IFERROR and IFNA are lazy: their arguments arrive as thunks and only
the branch chosen is evaluated, so IF(b=0, 0, a/b) never divides by zero. AND, OR and
XOR evaluate every argument, as Excel does.
"""
from __future__ import annotations

from typing import Any, Callable

from engine.formula.functions.args import bool_arg, logicals
from engine.formula.functions.registry import function, same_as
from engine.formula.operators import eq
from engine.formula.values import NA, VALUE, EvalContext, ErrorValue

Thunk = Callable[[], Any]


def _branches(arg_types: list[str]) -> str:
    return same_as(1, 2)(arg_types) if len(arg_types) > 2 else same_as(1)(arg_types)


def _ifs_result(arg_types: list[str]) -> str:
    return same_as(*range(1, len(arg_types), 2))(arg_types)


def _switch_result(arg_types: list[str]) -> str:
    results = list(range(2, len(arg_types), 2))
    if len(arg_types) % 2 == 0:
        results.append(len(arg_types) - 1)   # the default
    return same_as(*results)(arg_types)


@function("IF(condition, value_if_true, [value_if_false])", result=_branches,
          args=("boolean", "any", "any"), lazy=True,
          summary="value_if_true when the condition holds, else value_if_false (FALSE if left out).",
          zh="条件成立时返回第二个参数，否则返回第三个参数（省略时为 FALSE）。",
          example='IF(5>3, "yes", "no")')
def IF(ctx: EvalContext, condition: Thunk, if_true: Thunk, if_false: Thunk | None = None) -> Any:
    test = bool_arg(condition())
    if type(test) is ErrorValue:
        return test
    if test:
        return if_true()
    return if_false() if if_false is not None else False


def _ifs_arity(count: int) -> str | None:
    return None if count % 2 == 0 else (
        f"IFS takes pairs of condition and value, got {count} arguments (one is missing its pair)")


@function("IFS(condition1, value1, ...)", result=_ifs_result, args=("boolean", "any"), lazy=True,
          arity_check=_ifs_arity,
          summary="The value of the first condition that holds; #N/A when none does.",
          zh="返回第一个成立条件对应的值；都不成立时为 #N/A。",
          example='IFS(72>=90, "A", 72>=60, "C", TRUE, "D")')
def IFS(ctx: EvalContext, *pairs: Thunk) -> Any:
    if len(pairs) % 2:
        return VALUE
    for index in range(0, len(pairs), 2):
        test = bool_arg(pairs[index]())
        if type(test) is ErrorValue:
            return test
        if test:
            return pairs[index + 1]()
    return NA


@function("SWITCH(expression, value1, result1, ...)", result=_switch_result, args=("any",), lazy=True,
          summary="The result paired with the first value equal to the expression (text ignoring "
                  "case); a last unpaired argument is the default; else #N/A.",
          zh="返回与表达式相等的第一个值所对应的结果；末尾单独的参数为默认值；都不匹配时为 #N/A。",
          example='SWITCH("silver", "gold", 0.1, "silver", 0.05, 0)')
def SWITCH(ctx: EvalContext, expression: Thunk, *cases: Thunk) -> Any:
    subject = expression()
    if type(subject) is ErrorValue:
        return subject
    if type(subject) is list:
        return VALUE
    pairs, default = (cases[:-1], cases[-1]) if len(cases) % 2 else (cases, None)
    for index in range(0, len(pairs), 2):
        candidate = pairs[index]()
        if type(candidate) is ErrorValue:
            return candidate
        if eq(subject, candidate) is True:
            return pairs[index + 1]()
    return default() if default is not None else NA


def _logical(name: str, combine: Callable[[list[bool]], bool], summary: str, zh: str, example: str):
    @function(f"{name}(logical1, ...)", result="boolean", args=("values",),
              summary=summary, zh=zh, example=example)
    def impl(ctx: EvalContext, *args: Any) -> Any:
        found = logicals(args)
        if type(found) is ErrorValue:
            return found
        if not found:
            return VALUE   # nothing to decide on, as in Excel
        return combine(found)
    impl.__name__ = name
    return impl


AND = _logical("AND", all, "TRUE when every argument is TRUE.", "所有参数都为 TRUE 时返回 TRUE。",
               "AND(1<2, 3<4)")
OR = _logical("OR", any, "TRUE when at least one argument is TRUE.", "任一参数为 TRUE 时返回 TRUE。",
              "OR(1>2, 3<4)")
XOR = _logical("XOR", lambda found: sum(found) % 2 == 1,
               "TRUE when an odd number of arguments are TRUE.", "为 TRUE 的参数个数为奇数时返回 TRUE。",
               "XOR(TRUE, FALSE)")


@function("NOT(logical)", result="boolean", args=("boolean",),
          summary="The opposite truth value.", zh="逻辑取反。", example="NOT(1>2)")
def NOT(ctx: EvalContext, value: Any) -> Any:
    test = bool_arg(value)
    return test if type(test) is ErrorValue else not test


@function("IFERROR(value, value_if_error)", result=same_as(0, 1), args=("any", "any"),
          lazy=True, propagate_errors=False,
          summary="The value, or value_if_error when the value is any error.",
          zh="值为任何错误时返回第二个参数，否则返回值本身。", example="IFERROR(1/0, 0)")
def IFERROR(ctx: EvalContext, value: Thunk, fallback: Thunk) -> Any:
    result = value()
    return fallback() if type(result) is ErrorValue else result


@function("IFNA(value, value_if_na)", result=same_as(0, 1), args=("any", "any"),
          lazy=True, propagate_errors=False,
          summary="The value, or value_if_na when the value is #N/A (other errors pass).",
          zh="值为 #N/A 时返回第二个参数，其他错误照常返回。",
          example='IFNA(SWITCH("x", "a", 1), "none")')
def IFNA(ctx: EvalContext, value: Thunk, fallback: Thunk) -> Any:
    result = value()
    return fallback() if result == NA else result


@function("TRUE()", result="boolean", summary="The logical value TRUE.", zh="逻辑值 TRUE。",
          example="TRUE()")
def TRUE(ctx: EvalContext) -> bool:
    return True


@function("FALSE()", result="boolean", summary="The logical value FALSE.", zh="逻辑值 FALSE。",
          example="FALSE()")
def FALSE(ctx: EvalContext) -> bool:
    return False


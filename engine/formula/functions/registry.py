"""The function table: one `FunctionSpec` per function, registered with `@function`.

A spec tells the parser how many arguments a function takes, the type checker what it
expects and returns, the evaluators how to call it (lazy or not, whether error
arguments reach it), and the docs and the builder's function picker what it does.

Argument kinds (`arg_types`, the last one repeats for variadic functions):

    any        any value                    number  text  boolean  date  datetime
    numbers    a number or an array of them (aggregates)
    values     any value or an array of them
    array      an array (a single value counts as an array of one)
    criteria   a criterion of SUMIF/COUNTIF: ">=10", "张*", a value

Result types: number text boolean date datetime array any, or a function of the
argument types (IF's result is the type of its branches).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import wraps
from typing import Any, Callable, Iterable, Mapping

from engine.formula.values import DIV0, NUM, VALUE, EvalContext

ARG_KINDS = frozenset({"any", "number", "text", "boolean", "date", "datetime", "numbers",
                       "values", "array", "criteria"})
RESULT_TYPES = frozenset({"number", "text", "boolean", "date", "datetime", "array", "any"})
FAMILIES = ("logic", "info", "math", "stats", "conditional", "text", "date", "array")


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    impl: Callable            # impl(ctx, *args) -> value; lazy: args are zero-arg thunks
    min_args: int
    max_args: int | None      # None: variadic
    lazy: bool = False
    propagate_errors: bool = True
    result_type: str | Callable[[list[str]], str] = "any"
    arg_types: tuple[str, ...] = ()
    volatile: bool = False
    reads_user: bool = False  # depends on who is evaluating (CURRENTUSER): never stored
    summary: str = ""         # one line, English
    summary_zh: str = ""      # one line, Chinese
    example: str = ""         # a formula whose result docs/formulas.md shows
    signature: str = ""       # "ROUND(number, digits)": optional arguments in [brackets]
    family: str = ""
    # A rule on the argument count beyond min/max (IFS takes pairs): count -> message or None.
    arity_check: Callable[[int], str | None] | None = None

    def arity_problem(self, count: int) -> str | None:
        """What is wrong with calling this function with `count` arguments, or None."""
        if count < self.min_args or (self.max_args is not None and count > self.max_args):
            return f"{self.name} takes {self.arity_text()}, got {count}"
        return self.arity_check(count) if self.arity_check else None

    def arg_type(self, index: int) -> str:
        """The expected kind of argument `index` (0-based); the last kind repeats."""
        if not self.arg_types:
            return "any"
        return self.arg_types[min(index, len(self.arg_types) - 1)]

    def result_for(self, arg_types: list[str]) -> str:
        """The result type, given the types of the arguments."""
        if callable(self.result_type):
            return self.result_type(arg_types)
        return self.result_type

    def arity_text(self) -> str:
        """ "2 or 3 arguments", "at least 1 argument"... for messages."""
        low, high = self.min_args, self.max_args
        if high is None:
            return f"at least {low} argument{'s' if low != 1 else ''}"
        if low == high:
            return "no arguments" if low == 0 else f"{low} argument{'s' if low != 1 else ''}"
        if high == low + 1:
            return f"{low} or {high} arguments"
        return f"{low} to {high} arguments"


FUNCTIONS: dict[str, FunctionSpec] = {}

_SIGNATURE = re.compile(r"([A-Z][A-Z0-9.]*)\((.*)\)")


def arity(signature: str) -> tuple[int, int | None]:
    """(min_args, max_args) read from a signature: `[x]` is optional, `...` repeats."""
    match = _SIGNATURE.fullmatch(signature)
    if not match:
        raise ValueError(f"bad signature {signature!r}")
    params = [p.strip() for p in match.group(2).split(",") if p.strip()]
    if params and params[-1] == "...":
        return sum(1 for p in params[:-1] if not p.startswith("[")), None
    return sum(1 for p in params if not p.startswith("[")), len(params)


def same_as(*positions: int) -> Callable[[list[str]], str]:
    """A result type equal to the arguments' at `positions` when they agree, else "any"."""
    def result(arg_types: list[str]) -> str:
        kinds = {arg_types[p] for p in positions if p < len(arg_types)} - {"empty"}
        return kinds.pop() if len(kinds) == 1 else "any"
    return result


def _element(type_name: str) -> str:
    return type_name.split(":", 1)[1] if type_name.startswith("array:") else type_name


def numbers_or_dates(*positions: int) -> Callable[[list[str]], str]:
    """The result type of an aggregate that gives back dates for dates (MAX, MIN...):
    "date" or "datetime" when the arguments at `positions` (all when none given) are all
    that (arrays of it included), else "number"."""
    def result(arg_types: list[str]) -> str:
        chosen = [arg_types[p] for p in positions if p < len(arg_types)] if positions else arg_types
        kinds = {_element(kind) for kind in chosen} - {"empty"}
        return kinds.pop() if len(kinds) == 1 and kinds <= {"date", "datetime"} else "number"
    return result


def elements_of(position: int) -> Callable[[list[str]], str]:
    """The result type of a function giving back an array of the argument's values."""
    def result(arg_types: list[str]) -> str:
        kind = arg_types[position] if position < len(arg_types) else "any"
        return kind if kind.startswith("array:") else "array"
    return result


def function(signature: str, *, result: str | Callable[[list[str]], str], args: tuple[str, ...] = (),
             summary: str, zh: str, example: str, lazy: bool = False,
             propagate_errors: bool = True, volatile: bool = False, reads_user: bool = False,
             family: str = "", arity_check: Callable[[int], str | None] | None = None) -> Callable:
    """Register the decorated `impl(ctx, *args)` under the name in `signature`."""
    name = _SIGNATURE.fullmatch(signature).group(1)
    low, high = arity(signature)
    unknown = set(args) - ARG_KINDS
    if unknown or (isinstance(result, str) and _element(result) not in RESULT_TYPES):
        raise ValueError(f"{name}: unknown argument kinds {sorted(unknown)} or result {result!r}")

    def register(impl: Callable) -> Callable:
        if name in FUNCTIONS:
            raise ValueError(f"function {name} registered twice")
        FUNCTIONS[name] = FunctionSpec(
            name=name, impl=_guarded(impl), min_args=low, max_args=high, lazy=lazy,
            propagate_errors=propagate_errors, result_type=result, arg_types=tuple(args),
            volatile=volatile, reads_user=reads_user, summary=summary, summary_zh=zh, example=example,
            signature=signature, family=family or impl.__module__.rsplit(".", 1)[-1],
            arity_check=arity_check)
        return impl
    return register


def user_functions(names: Iterable[str], functions: Mapping | None = None) -> list[str]:
    """Those of the function `names` whose result depends on who is evaluating."""
    table = FUNCTIONS if functions is None else functions
    return sorted(name for name in names if getattr(table.get(name), "reads_user", False))


def _guarded(impl: Callable) -> Callable:
    """The impl, with arithmetic failures as error values and oversized results refused."""
    @wraps(impl)
    def guarded(ctx: EvalContext, *args: Any) -> Any:
        try:
            result = impl(ctx, *args)
        except ZeroDivisionError:      # decimal's DivisionByZero too
            return DIV0
        except ArithmeticError:        # decimal overflow or invalid operation, date overflow
            return NUM
        kind = type(result)
        if kind is str and len(result) > ctx.limits.max_text_length:
            return VALUE
        if kind is list and len(result) > ctx.limits.max_array_length:
            return VALUE
        return result
    guarded.unguarded = impl
    return guarded


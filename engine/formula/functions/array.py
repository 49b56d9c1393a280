"""Arrays: UNIQUE INDEX (a subform column or a relation's values as a list)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from engine.formula.functions.args import int_arg, values_of
from engine.formula.functions.registry import elements_of, function
from engine.formula.values import REF, VALUE, EvalContext, ErrorValue, date_to_serial


def _identity(value: Any) -> Any:
    """What makes two values the same for UNIQUE: text ignoring case, as Excel compares."""
    kind = type(value)
    if kind is str:
        return ("text", value.casefold())
    if kind is Decimal:
        return ("number", value)
    if kind is date or kind is datetime:
        return ("number", date_to_serial(value))
    return (kind.__name__, value)


@function("UNIQUE(array)", result=elements_of(0), args=("array",), propagate_errors=False,
          summary="The distinct values of the array, in first-seen order (text ignoring case; "
                  "empty values left out).",
          zh="数组中不重复的值，按首次出现的顺序（文本不区分大小写，空值不计）。",
          example='UNIQUE(SPLIT("华东,华南,华东", ","))')
def UNIQUE(ctx: EvalContext, array: Any) -> list:
    seen: set = set()
    distinct = []
    for value in values_of(ctx, [array]):
        if value is None or value == "":
            continue
        key = _identity(value)
        if key not in seen:
            seen.add(key)
            distinct.append(value)
    return distinct


def _element_type(arg_types: list[str]) -> str:
    """ "array:number" -> "number"; anything else -> "any"."""
    first = arg_types[0] if arg_types else ""
    return first.split(":", 1)[1] if first.startswith("array:") else "any"


@function("INDEX(array, position)", result=_element_type, args=("array", "number"),
          summary="The value at a position of the array (the first is 1; a negative position counts "
                  "from the end); #REF! outside the array.",
          zh="数组中指定位置的值（第一个为 1，负数从末尾倒数）；超出范围时返回 #REF!。",
          example='INDEX(SPLIT("华东,华南,华北", ","), 2)')
def INDEX(ctx: EvalContext, array: Any, position: Any) -> Any:
    items = array if type(array) is list else [array]
    place = int_arg(position)
    if type(place) is ErrorValue:
        return place
    if place == 0 or abs(place) > len(items):
        return REF
    value = items[place - 1] if place > 0 else items[place]
    return VALUE if type(value) is list else value

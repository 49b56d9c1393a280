"""Reading a field path out of a record's inputs: one rule for every back end.

`inputs` maps field keys to formula values. A path through a relation or a subform
is read either from a flat key or by walking nested data, whichever the caller has:

    ("amount",)           inputs["amount"]
    ("customer", "level") inputs["customer.level"] if that key exists, else
                          inputs["customer"]["level"] (the related record as a mapping)
    ("items", "price")    inputs["items.price"], else [row["price"] for row in inputs["items"]]
                          (a subform's rows, or a multiple relation's records: an array)

Empty stays empty on the way (no related customer: `customer.level` is empty). A key
that is not there at all is an error value: `#NAME?` for the first step (a field the
inputs do not have), `#REF!` for a later step (the related record has no such field).
Python numbers are turned into exact Decimals (floats through their shortest repr),
tuples into lists; anything that is not a formula value (a whole related record, an
object) reads as `#VALUE!`.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from engine.formula.values import (
    NAME, NUM, REF, VALUE, ErrorValue, ValueJSONError, from_json, number,
)

_MISSING = object()
# Types that are formula values as they are (arrays are checked item by item).
PLAIN_VALUE_TYPES = frozenset({Decimal, str, bool, type(None), date, datetime, ErrorValue})


def read_field(inputs: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """The value of a field path in `inputs` (see the module's docstring)."""
    if len(path) > 1:
        flat = inputs.get(".".join(path), _MISSING)
        if flat is not _MISSING:
            return as_value(flat)
    value = inputs.get(path[0], _MISSING)
    if value is _MISSING:
        return NAME
    try:
        for key in path[1:]:
            value = _step(value, key)
    except _BadPath as bad:
        return bad.error
    return as_value(value)


class _BadPath(Exception):
    """A path that does not fit the data: it names no field, or walks into a plain value."""

    def __init__(self, error: ErrorValue):
        self.error = error


def _step(value: Any, key: str) -> Any:
    """One step of a path: into a related record, or into every row of an array."""
    if value is None or type(value) is ErrorValue:
        return value
    if isinstance(value, Mapping):
        found = value.get(key, _MISSING)
        if found is _MISSING:
            raise _BadPath(REF)
        return found
    if isinstance(value, (list, tuple)):
        items: list[Any] = []
        for row in value:
            item = _step(row, key)
            # A multiple relation whose records hold a subform: one flat array.
            if isinstance(item, (list, tuple)):
                items.extend(item)
            else:
                items.append(item)
        return items
    raise _BadPath(VALUE)   # a number or a text has no fields


def as_value(value: Any) -> Any:
    """A formula value from what a caller put in the inputs."""
    kind = type(value)
    if kind in PLAIN_VALUE_TYPES:
        return value
    if kind is int or kind is float:
        result = number(value)
        return result if result.is_finite() else NUM
    if kind is list or kind is tuple:
        return [as_value(item) for item in value]
    if isinstance(value, (str, Decimal, date)):     # subclasses (a str enum, a pendulum date)
        return _plain(value)
    return VALUE


def _plain(value: Any) -> Any:
    if isinstance(value, str):
        return str(value)
    if isinstance(value, Decimal):
        return Decimal(value)
    if isinstance(value, datetime):
        return datetime.fromisoformat(value.isoformat())
    return date(value.year, value.month, value.day)


# ---- inputs written as JSON (formwork eval, docs, tests) ----------------------------------

VALUE_TAGS = frozenset({"date", "datetime", "number", "text", "bool", "error", "empty", "array"})


def inputs_from_json(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Inputs written in the oracle vectors' JSON shape, as formula values.

    Plain numbers, texts, booleans, null and lists, or tagged values ({"date": ...});
    an object that is not a tagged value is a related record (`customer.level`), a list
    of such objects a subform's rows (`items.price`). Raises ValueJSONError naming the
    input that is wrong.
    """
    values = {}
    for key, item in raw.items():
        try:
            values[key] = _input_value(item)
        except ValueJSONError as error:
            raise ValueJSONError(f"input {key!r}: {error}") from None
    return values


def _input_value(item: Any) -> Any:
    if _is_record(item):
        return {key: _input_value(value) for key, value in item.items()}
    if isinstance(item, list) and item and all(_is_record(row) for row in item):
        return [_input_value(row) for row in item]
    return from_json(item)


def _is_record(item: Any) -> bool:
    """A JSON object that is not a tagged value ({"date": ...}) is a related record."""
    return isinstance(item, dict) and not (len(item) == 1 and next(iter(item)) in VALUE_TAGS)

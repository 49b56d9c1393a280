"""The field-type registry: type name -> FieldType subclass."""
from __future__ import annotations

from engine.definition.model import FieldDef
from engine.fields.base import FieldType

_TYPES: dict[str, type[FieldType]] = {}

# Types whose place is kept for a later part of the language: a definition that uses
# them gets a clear message rather than an "unknown type" guess.
RESERVED_TYPES: dict[str, str] = {
    "formula": "computed formula fields arrive with the formula language",
    "rollup": "rollup fields arrive with the formula language",
}


def register(cls: type[FieldType]) -> type[FieldType]:
    name = cls.name
    if name in _TYPES and _TYPES[name] is not cls:
        raise ValueError(f"field type {name!r} registered twice")
    if name in RESERVED_TYPES:
        RESERVED_TYPES.pop(name)
    _TYPES[name] = cls
    return cls


def get_type(name: str) -> type[FieldType] | None:
    return _TYPES.get(name)


def type_names() -> list[str]:
    return sorted(_TYPES)


def all_types() -> dict[str, type[FieldType]]:
    return dict(_TYPES)


def field_type(fdef: FieldDef) -> FieldType:
    """An instance of the field's type, bound to its definition."""
    cls = _TYPES.get(fdef.type)
    if cls is None:
        raise KeyError(f"unknown field type {fdef.type!r}")
    return cls(fdef)

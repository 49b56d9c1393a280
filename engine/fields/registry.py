"""The field-type registry: type name -> FieldType subclass."""
from __future__ import annotations

from typing import Mapping

from engine.definition.model import FieldDef
from engine.fields.base import DerivedType, FieldType

_TYPES: dict[str, type[FieldType]] = {}


def register(cls: type[FieldType]) -> type[FieldType]:
    name = cls.name
    if name in _TYPES and _TYPES[name] is not cls:
        raise ValueError(f"field type {name!r} registered twice")
    _TYPES[name] = cls
    return cls


def get_type(name: str) -> type[FieldType] | None:
    return _TYPES.get(name)


def type_names() -> list[str]:
    return sorted(_TYPES)


def all_types() -> dict[str, type[FieldType]]:
    return dict(_TYPES)


def field_type(fdef: FieldDef, derived: DerivedType | None = None) -> FieldType:
    """An instance of the field's type, bound to its definition. A computed field needs
    `derived`, what the whole app tells about it: get such types from the app's
    FieldTypes (App.types, or FieldTypes(derive_types(app)) while validating)."""
    cls = _TYPES.get(fdef.type)
    if cls is None:
        raise KeyError(f"unknown field type {fdef.type!r}")
    if not cls.needs_derived:
        return cls(fdef)
    if derived is None:
        raise TypeError(f"field {fdef.path} ({fdef.type}) is bound through its app's FieldTypes, "
                        "which know its derived result type")
    return cls(fdef, derived)


def computed_kind(fdef: FieldDef) -> str | None:
    """"formula" or "rollup" for a computed field, else None (also for an unknown type)."""
    cls = _TYPES.get(fdef.type) if isinstance(fdef.type, str) else None
    return cls.computed_kind if cls is not None else None


def path_kind(fdef: FieldDef) -> str:
    """How a field path treats a field (FieldType.path_kind), "unknown" for an unknown type."""
    cls = _TYPES.get(fdef.type) if isinstance(fdef.type, str) else None
    return cls.path_kind if cls is not None else "unknown"


class FieldTypes:
    """The field types of one app definition, each bound once to its FieldDef and to what
    the app tells about it (`derived`: path -> DerivedType, engine/computed/derive.py)."""

    def __init__(self, derived: Mapping[str, DerivedType]):
        self.derived = derived
        self._bound: dict[str, FieldType] = {}

    def of(self, fdef: FieldDef) -> FieldType:
        found = self._bound.get(fdef.path)
        if found is not None and found.fdef is fdef:
            return found
        cls = _TYPES.get(fdef.type)
        if cls is not None and cls.has_subfields:   # a subform: its columns bound too
            made = cls(fdef, columns=[self.of(sub) for sub in fdef.fields if sub.type in _TYPES])
            self.bind_all(fdef.fields)
        else:
            made = field_type(fdef, self.derived.get(fdef.path, _UNKNOWN))
        if found is None:
            self._bound[fdef.path] = made
        return made

    def derived_of(self, fdef: FieldDef) -> DerivedType:
        return self.derived.get(fdef.path, _UNKNOWN)

    def bind_all(self, fields) -> "FieldTypes":
        """Bind `fields` (and their subform columns) now, so `bound` knows them."""
        for fdef in fields:
            if fdef.type in _TYPES:
                self.of(fdef)
        return self

    def bound(self, fdef: FieldDef) -> FieldType | None:
        """The type bound to this very FieldDef, None when it is not one of this app's."""
        found = self._bound.get(fdef.path)
        return found if found is not None and found.fdef is fdef else None


class TypesOfApps:
    """Field types for FieldDefs of several apps (a migration plan reads the installed and
    the new definition, and archived fields): each bound by the app that holds it; a field
    none holds (an archived one) is bound on its own, with nothing derived."""

    def __init__(self, *apps_types: FieldTypes):
        self.apps_types = apps_types

    def of(self, fdef: FieldDef) -> FieldType:
        for types in self.apps_types:
            found = types.bound(fdef)
            if found is not None:
                return found
        return field_type(fdef, _UNKNOWN)


_UNKNOWN = DerivedType()   # a computed field the app could tell nothing about (a broken definition)

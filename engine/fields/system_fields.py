"""The system columns every form table has, as pseudo-fields of a registered type, so
filters, sorts and formulas read them through the same field-type code as user fields."""
from __future__ import annotations

from engine.definition.model import FieldDef, Label
from engine.fields.registry import get_type

_SYSTEM_FIELDS = {
    "id": ("number", {"precision": 0}),
    "created_at": ("datetime", {}),
    "updated_at": ("datetime", {}),
    "created_by": ("member", {}),
    "updated_by": ("member", {}),
    "owner_id": ("member", {}),
}
SYSTEM_FIELD_KEYS = tuple(_SYSTEM_FIELDS)


def system_field(key: str) -> FieldDef | None:
    spec = _SYSTEM_FIELDS.get(key)
    if spec is None or get_type(spec[0]) is None:
        return None
    return FieldDef(key=key, type=spec[0], label=Label(key, key), path=key, config=dict(spec[1]))

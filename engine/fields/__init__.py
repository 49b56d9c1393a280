"""Field types. Importing this package registers every built-in type: each module
in this folder (other than the contract and the registry) defines and registers
its types with `@register`.
"""
import importlib
import pkgutil

from engine.fields.base import FieldType, ValueContext  # noqa: F401
from engine.fields.registry import all_types, field_type, get_type, type_names  # noqa: F401

_NOT_TYPES = {"base", "registry"}

for _module in pkgutil.iter_modules(__path__):
    if _module.name not in _NOT_TYPES and not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")

"""Field types. Importing this package registers every built-in type."""
from engine.fields import number, text  # noqa: F401  (registration side effects)
from engine.fields.base import FieldType, ValueContext  # noqa: F401
from engine.fields.registry import all_types, field_type, get_type, type_names  # noqa: F401

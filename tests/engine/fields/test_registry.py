"""The registry as a whole: every type is tested by a family module and by the hostile
sweep, keeps the contract, and every error code it raises has zh and en text."""
import ast
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

import engine.fields
import engine.storage.files  # noqa: F401  (registers the upload messages)
from engine.fields import all_types, type_names
from engine.fields.address import LEVELS
from engine.fields.base import ALL_OPERATORS, FieldType, Reference
from engine.i18n import known_codes
from tests.support.fields import CTX, WORKING_CONFIGS, make, messages
from tests.support.paths import TESTS as TESTS_DIR

FIELDS_DIR = Path(engine.fields.__file__).parent
STORAGES = {"column", "none", "child_table", "link_table"}
FORMULA_TYPES = {None, "number", "text", "boolean", "date", "datetime", "array"}


def _tested_types() -> dict[str, str]:
    """{type name: test module} from the `TYPES = {...}` of every test module: the module
    that declares a type tests its validation, round trip, filters and sort."""
    found = {}
    for path in sorted(TESTS_DIR.rglob("test_*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
            if isinstance(target, ast.Name) and target.id == "TYPES" and node.value is not None:
                for name in ast.literal_eval(node.value) if isinstance(node.value, ast.Set) else ():
                    assert name not in found, f"{name} is claimed by {found[name]} and {path.name}"
                    found[name] = str(path.relative_to(TESTS_DIR))
    return found


def test_every_registered_type_has_its_tests():
    untested = set(type_names()) - set(_tested_types())
    assert not untested, (f"field types without tests: {sorted(untested)}; declare TYPES = {{...}} in the test "
                          "module that tests them (see tests/engine/fields/test_text.py)")
    assert not set(_tested_types()) - set(type_names())
    unswept = set(type_names()) - set(WORKING_CONFIGS)
    assert not unswept, f"add a config for {sorted(unswept)} to WORKING_CONFIGS in tests/support/fields.py"


@pytest.mark.parametrize("name", type_names())
def test_every_type_keeps_the_contract(name):
    cls = all_types()[name]
    assert cls.label.zh and cls.label.en and cls.label.zh != cls.label.en
    assert cls.operators <= ALL_OPERATORS
    assert cls.formula_type in FORMULA_TYPES
    for option, spec in cls.config_schema.items():
        assert re.fullmatch(r"[a-z][a-z0-9_]*", option)
        Draft202012Validator.check_schema(spec)
    assert set(cls.config_required) <= set(cls.config_schema)
    ftype = make(name, **WORKING_CONFIGS.get(name, {}))
    assert ftype.storage in STORAGES
    if ftype.storage == "column":
        assert ftype.columns(), "a stored type needs a column"
        assert set(ftype.to_row(None)) == {c.name for c in ftype.columns()}
    if cls.system_assigned:
        assert type(ftype).assign_values is not FieldType.assign_values
    if ftype.sortable and ftype.storage == "column":
        assert ftype.sort_expression is not None
    assert ftype.display(None, CTX) == ""


def _codes_raised_in_source() -> set[str]:
    sources = [*FIELDS_DIR.glob("*.py"), FIELDS_DIR.parent / "storage" / "files.py"]
    text = "\n".join(path.read_text(encoding="utf-8") for path in sources)
    codes = set(re.findall(r"(?:FieldError|FileRefused)\(\s*\"([a-z_]+)\"", text))
    codes |= set(re.findall(r"_code(?:, \w+_code)? = \"([a-z_]+)\"(?:, \"([a-z_]+)\")?", text)[0])
    codes |= {code for pair in re.findall(r"invalid_code, unknown_code = \"([a-z_]+)\", \"([a-z_]+)\"", text)
              for code in pair}
    for template in re.findall(r"FieldError\(f\"([a-z_]+)\{level\}\"", text):
        codes |= {template + level for level in LEVELS}
    return codes - {""}


def test_every_error_code_raised_has_zh_and_en_text():
    raised = _codes_raised_in_source() | {Reference(kind, None, ()).missing_code
                                          for kind in ("form", "users", "departments", "files")}
    assert {"member_invalid", "department_unknown", "address_missing_city", "file_too_large"} <= raised
    missing = raised - known_codes()
    assert not missing, f"codes raised but not registered: {sorted(missing)}"
    for code in raised:
        messages(code, {"value": "x", "max": 1, "min": 1, "length": 2, "op": "eq", "name": "a.pdf",
                        "parent": "P", "actual": "Q", "birth": "1949-02-30", "allowed": "a", "hint_zh": "提示",
                        "hint_en": "hint", "pattern": "{counter:4}", "digits": 18, "count": 3, "row": 1,
                        "column": "c", "hint": "", "max_mb": 1, "accepted": ".pdf", "field": "f", "id": 1,
                        "expected": "x", "level": "city"})

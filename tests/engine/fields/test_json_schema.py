"""Every field type describes its value in JSON Schema, for reading and for writing
(FieldType.json_schema, the API document's source): a type without one fails here."""
import jsonschema
import pytest

from engine.fields.base import FieldType, SchemaContext
from engine.fields.registry import all_types, type_names
from tests.support.fields import CTX, WORKING_CONFIGS, make

READ, WRITE = SchemaContext("read"), SchemaContext("write")


def _accepts(schema: dict, value) -> bool:
    return jsonschema.Draft202012Validator(schema).is_valid(value)


@pytest.mark.parametrize("name", type_names())
def test_every_registered_type_has_its_own_value_schemas(name):
    assert all_types()[name].json_schema is not FieldType.json_schema, f"{name} gives no json_schema()"
    ftype = make(name, **WORKING_CONFIGS[name])
    modes = (READ, WRITE) if ftype.accepts_input else (READ,)
    for ctx in modes:
        schema = ftype.json_schema(ctx)
        assert isinstance(schema, dict)
        jsonschema.Draft202012Validator.check_schema(schema)


def test_a_type_without_a_schema_is_told_to_give_one():
    class Bare(FieldType):
        name = "bare"

    with pytest.raises(NotImplementedError, match="Bare must define json_schema"):
        Bare.__new__(Bare).json_schema(READ)


def test_read_only_kinds_take_no_input():
    takes_none = {name for name in type_names() if not make(name, **WORKING_CONFIGS[name]).accepts_input}
    assert takes_none == {"serial", "lookup", "formula", "rollup"}


@pytest.mark.parametrize("name, config, raw", [
    ("number", {"precision": 2}, "1,234.5"), ("number", {"precision": 0}, 12),
    ("date", {}, "2025/3/15"), ("datetime", {}, "2025-03-15 09:30"),
    ("select", {"options": [{"value": "a", "label": {"zh": "甲", "en": "First"}}]}, "First"),
    ("checkbox", {"options": ["x", "y"]}, "x,y"), ("switch", {}, "是"), ("rating", {"max": 5}, "★★★"),
    ("phone", {}, 13812345678), ("url", {}, "example.com"), ("members", {}, "3, 4"),
    ("relation", {"target": "items", "multiple": True}, ["#3", {"id": 4}]), ("attachment", {}, 7),
    ("location", {}, "113.93,22.53 深圳湾"), ("address", {}, "广东省深圳市南山区科技园1号"),
])
def test_writes_accept_the_forms_clean_accepts_and_reads_give_what_to_json_gives(name, config, raw):
    ftype = make(name, **config)
    assert _accepts(ftype.json_schema(WRITE), raw)
    shown = ftype.to_json(ftype.clean(raw, CTX))
    assert _accepts(ftype.json_schema(READ), shown), shown


def test_numbers_read_as_exact_decimal_text():
    schema = make("number", precision=2).json_schema(READ)
    assert _accepts(schema, "1234.50") and _accepts(schema, "-0.01")
    assert not _accepts(schema, 1234.5) and not _accepts(schema, "1e3")


def test_write_schemas_refuse_what_can_never_be_a_value():
    assert not _accepts(make("number").json_schema(WRITE), True)
    assert not _accepts(make("select", options=["a"]).json_schema(WRITE), "b")
    assert not _accepts(make("member").json_schema(WRITE), "李雷 x")
    assert not _accepts(make("member").json_schema(WRITE), 0)
    assert not _accepts(make("attachment", max_files=2).json_schema(READ), [1, 2, 3])
    assert not _accepts(make("rating", max=5).json_schema(WRITE), 6)


def test_a_subform_describes_its_rows_with_their_columns():
    subform = make("subform", fields=[{"key": "qty", "type": "number", "label": {"zh": "数量", "en": "Qty"}},
                                      {"key": "note", "type": "text", "label": {"zh": "备注", "en": "Note"}}])
    read, write = subform.json_schema(READ), subform.json_schema(WRITE)
    assert read["items"]["properties"]["qty"]["title"] == "Qty"
    assert _accepts(read, [{"id": 1, "qty": "2.00", "note": None}])
    assert not _accepts(read, [{"qty": "2.00"}])                  # rows read back have their id
    assert _accepts(write, [{"qty": 2, "note": "急"}, {"qty": "3"}])
    assert not _accepts(write, [{"qty": 2, "colour": "red"}])     # unknown columns are refused

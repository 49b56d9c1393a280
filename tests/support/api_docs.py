"""Helpers of the API contract tests: an app with one field of every type, sample values
the API accepts for each, and validation of JSON against the generated OpenAPI document
(its components resolved by reference, as a client's validator would)."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from schemathesis.specs.openapi.definitions import OPENAPI_31

from engine.storage import system
from engine.storage.files import FileStore
from tests.support.fields import NOW, WORKING_CONFIGS, L

# One field of every type (keys f_text, f_number...; the relation is `ref`, read by a lookup),
# as tests/engine/fields/test_hostile.py builds them.
ALL_FIELDS = [{"key": "title", "type": "text", "label": L("标题", "Title"), "required": True}] + [
    {"key": "ref" if name == "relation" else f"f_{name}", "type": name, "label": L(f"字段{name}", name), **config}
    for name, config in WORKING_CONFIGS.items()]

DOC_URI = "urn:formwork:openapi"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))


def validator(document: dict, schema_name: str) -> jsonschema.Draft202012Validator:
    """A validator of one component schema of `document`, its $refs resolved in it."""
    registry = Registry().with_resource(DOC_URI, Resource(document, DRAFT202012))
    schema = {"$ref": f"{DOC_URI}#/components/schemas/{schema_name}"}
    return jsonschema.Draft202012Validator(schema, registry=registry,
                                           format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def assert_valid(document: dict, schema_name: str, value: Any) -> None:
    errors = sorted(validator(document, schema_name).iter_errors(value), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{schema_name} at {list(e.path)}: {e.message[:300]}" for e in errors[:10])


def assert_invalid(document: dict, schema_name: str, value: Any) -> None:
    assert not validator(document, schema_name).is_valid(value), f"{schema_name} accepted {value!r}"


def assert_openapi_31(document: dict) -> None:
    """The document against the OpenAPI 3.1 meta-schema (as schemathesis ships it), and
    every component schema against JSON Schema 2020-12."""
    errors = list(jsonschema.Draft202012Validator(OPENAPI_31).iter_errors(document))
    assert not errors, "\n".join(f"{e.json_path}: {e.message[:300]}" for e in errors[:10])
    for name, schema in document["components"]["schemas"].items():
        jsonschema.Draft202012Validator.check_schema(schema)


def org_and_files(engine, root: Path) -> dict[str, int]:
    """Two users, a department and two stored files (one an image) to point fields at."""
    store = FileStore(root)
    with engine.begin() as conn:
        users = [conn.execute(system.users.insert().values(account=f"api{i}", name=f"用户{i}", created_at=NOW)
                              .returning(system.users.c.id)).scalar_one() for i in (1, 2)]
        department = conn.execute(system.departments.insert().values(name="销售部", created_at=NOW)
                                  .returning(system.departments.c.id)).scalar_one()
        document = store.put(conn, io.BytesIO(b"%PDF-1.4 contract"), "合同.pdf", max_bytes=10_000)["id"]
        image = store.put(conn, io.BytesIO(PNG), "照片.png", max_bytes=10_000, images_only=True)["id"]
    return {"user": users[0], "user2": users[1], "department": department, "file": document, "image": image}


def sample_values(ids: dict[str, int], ref: int | None = None) -> dict[str, Any]:
    """A value the API accepts for every writable field of ALL_FIELDS, in the forms a
    client writes (decimal text, labels, ids as text...)."""
    values = {
        "title": "张三 <b>&amp;</b>", "f_text": "单行", "f_textarea": "多行\n文本", "f_number": "1,234.5",
        "f_date": "2025/3/15", "f_datetime": "2025-03-15 09:30", "f_radio": "甲", "f_select": "%",
        "f_checkbox": ["甲", "%"], "f_multiselect": "甲,%", "f_switch": "是", "f_rating": 4,
        "f_phone": "13812345678", "f_email": "Li.Lei@Example.com", "f_url": "example.com/a?b=1",
        "f_idcard": "11010519491231002X",
        "f_address": {"province": "广东", "city": "深圳", "district": "南山", "detail": "科技园1号"},
        "f_location": {"lng": 113.93, "lat": "22.53", "name": "深圳湾"},
        "f_member": ids["user"], "f_members": [ids["user"], f"#{ids['user2']}"],
        "f_department": {"id": ids["department"]}, "f_departments": str(ids["department"]),
        "f_attachment": [ids["file"]], "f_image": ids["image"], "f_signature": str(ids["image"]),
        "f_subform": [{"line": "第一行"}, {"line": "第二行"}],
    }
    if ref is not None:
        values["ref"] = f"#{ref}"
    return values



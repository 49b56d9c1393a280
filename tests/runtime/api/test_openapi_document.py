"""The OpenAPI 3.1 document built from app definitions: valid, one path and record
schema per form, from the field types, deterministic, in zh or en, and following the
installed version of an app."""
import copy
import json
import re
from pathlib import Path

import schemathesis

from engine.compiled.app import compile_app
from engine.definition.model import AppDef
from engine.validation import load_definition
from runtime.api.openapi import build_document, installed_document, installed_document_bytes, render_document
from runtime.actor import Actor
from runtime.api.workflow import ACTION_ARGUMENTS
from runtime.apps import apply_app
from runtime.permissions import EDIT, FULL, VIEW, FormAccess
from runtime.workflow.service import ACTIONS
from tests.support.api_docs import ALL_FIELDS, assert_invalid, assert_openapi_31, assert_valid
from tests.support.fields import document
from tests.support.paths import APPS

FLAGSHIP = APPS / "crm_referral.yaml"
ERROR_STATUSES = {"400", "401", "403", "404", "429"}


def flagship(version: int = 1):
    return compile_app(load_definition(Path(FLAGSHIP)), version)


def lab(fields=ALL_FIELDS):
    return compile_app(AppDef.from_dict(document(fields)), 1)


def operations(doc):
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "patch", "delete"):
                yield path, method, operation


def test_the_flagship_document_is_valid_openapi_31_with_a_path_per_form():
    app = flagship()
    doc = build_document([app], lang="en")
    assert_openapi_31(doc)
    assert doc["openapi"] == "3.1.0"
    for form in app.forms:
        base = f"/api/v1/apps/crm_referral/forms/{form.key}/records"
        assert set(doc["paths"][base]) == {"get", "post"}
        assert set(doc["paths"][base + "/{id}"]) >= {"get", "patch", "delete"}
        assert "post" in doc["paths"][base + "/{id}/restore"] and "get" in doc["paths"][base + "/{id}/history"]
        fields = doc["components"]["schemas"][f"crm_referral.{form.key}.Fields"]["properties"]
        assert list(fields) == [f.key for f in form.fields]
    ids = [op["operationId"] for _, _, op in operations(doc)]
    assert len(ids) == len(set(ids))
    for path, method, operation in operations(doc):
        if path != "/api/v1/openapi.json":
            assert ERROR_STATUSES <= set(operation["responses"]), (path, method)
            assert operation["tags"]


def test_related_records_have_a_path_per_relation_pointing_at_the_form():
    doc = build_document([flagship()])
    related = [p for p in doc["paths"] if p.startswith("/api/v1/apps/crm_referral/forms/customers/records/{id}/related/")]
    assert "/api/v1/apps/crm_referral/forms/customers/records/{id}/related/orders.customer" in related
    page = doc["paths"][related[0]]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert page["$ref"].endswith(".Page")


def test_schemathesis_loads_every_operation_of_the_document():
    schema = schemathesis.openapi.from_dict(build_document([flagship(), lab()]))
    loaded = [result.ok() for result in schema.get_all_operations()]
    assert len(loaded) == sum(1 for _ in operations(build_document([flagship(), lab()])))


def test_every_field_type_shapes_its_field_in_the_record_schemas():
    app = lab()
    doc = build_document([app])
    assert_openapi_31(doc)
    schemas = doc["components"]["schemas"]
    read = schemas["lab.items.Fields"]["properties"]
    create = schemas["lab.items.Create"]["properties"]
    assert set(read) == {f["key"] for f in ALL_FIELDS}
    read_only = {key for key, schema in read.items() if schema.get("readOnly")}
    assert read_only == {"f_serial", "f_lookup", "f_formula", "f_rollup"}
    assert set(create) == set(read) - read_only
    assert schemas["lab.items.Create"]["required"] == ["title"]
    assert "required" not in schemas["lab.items.Patch"]
    assert (read["f_lookup"]["type"], read["f_lookup"]["maxLength"]) == (["string", "null"], 200)   # title's


def test_record_schemas_refuse_unknown_fields_and_read_only_ones():
    doc = build_document([lab()])
    assert_valid(doc, "lab.items.Create", {"title": "x"})
    assert_invalid(doc, "lab.items.Create", {"title": "x", "colour": "red"})
    assert_invalid(doc, "lab.items.Create", {"title": "x", "f_serial": "NO2025-0001"})
    assert_invalid(doc, "lab.items.Create", {"f_text": "no title"})
    assert_valid(doc, "lab.items.Patch", {"f_text": "only this", "version": 3})
    assert_valid(doc, "lab.items.CreateBody", [{"title": "a"}, {"title": "b"}])
    assert_invalid(doc, "lab.items.CreateBody", [{"title": "a"}] * 1001)


def test_same_definitions_give_the_same_bytes():
    first = render_document(build_document([flagship(), lab()], lang="zh"))
    again = render_document(build_document([lab(), flagship()], lang="zh"))   # compiled anew, other order
    assert first == again
    assert first != render_document(build_document([flagship(), lab()], lang="en"))


def test_labels_and_descriptions_in_the_language_asked_for():
    fields = [{"key": "name", "type": "text", "label": {"zh": "客户名称🙂", "en": "Customer name"},
               "description": {"zh": "营业执照上的全称", "en": "As on the business licence"}}]
    zh, en = build_document([lab(fields)], lang="zh"), build_document([lab(fields)], lang="en")
    assert zh["components"]["schemas"]["lab.items.Fields"]["properties"]["name"]["title"] == "客户名称🙂"
    assert zh["components"]["schemas"]["lab.items.Fields"]["properties"]["name"]["description"] == "营业执照上的全称"
    assert en["components"]["schemas"]["lab.items.Fields"]["properties"]["name"]["title"] == "Customer name"
    assert en["components"]["schemas"]["lab.items.Record"]["title"] == "Items"
    assert "客户名称🙂" in render_document(zh).decode()          # unicode as is, not \u escapes
    assert re.search(r"[\u4e00-\u9fff]", zh["paths"]["/api/v1/apps/lab/forms/items/records"]["get"]["summary"])
    assert json.loads(render_document(zh)) == zh


def test_installing_an_upgraded_app_changes_the_document(db):
    v1 = document([{"key": "name", "type": "text", "label": {"zh": "名称", "en": "Name"}}])
    apply_app(db, AppDef.from_dict(v1))
    with db.connect() as conn:
        before = installed_document(conn)
    v2 = copy.deepcopy(v1)
    v2["forms"][0]["fields"].append({"key": "amount", "type": "number", "label": {"zh": "金额", "en": "Amount"}})
    apply_app(db, AppDef.from_dict(v2))
    with db.connect() as conn:
        after = installed_document(conn)
    assert "amount" not in before["components"]["schemas"]["lab.items.Fields"]["properties"]
    assert after["components"]["schemas"]["lab.items.Fields"]["properties"]["amount"]["title"] == "Amount"
    assert after["components"]["schemas"]["lab.items.Create"]["properties"]["amount"]["type"] == \
        ["number", "string", "null"]
    assert (before["info"]["version"], after["info"]["version"]) == ("lab@1", "lab@2")
    assert_openapi_31(after)


def test_no_app_installed_gives_the_file_paths_only(db):
    with db.connect() as conn:
        doc = installed_document(conn)
    assert_openapi_31(doc)
    assert set(doc["paths"]) == {"/api/v1/openapi.json", "/api/v1/files", "/api/v1/files/{id}"}


def test_the_rendered_document_is_built_again_only_when_an_app_changes(db, count_statements):
    v1 = document([{"key": "name", "type": "text", "label": {"zh": "名称", "en": "Name"}}])
    apply_app(db, AppDef.from_dict(v1))
    with db.connect() as conn:
        first = installed_document_bytes(conn, lang="zh")
        with count_statements(db) as warm:
            again = installed_document_bytes(conn, lang="zh")
        assert warm.count == 2          # what is installed, and the installed version of the one app
        english = installed_document_bytes(conn, lang="en")
        assert first is again and first == render_document(installed_document(conn, lang="zh"))
    assert english != first
    v2 = copy.deepcopy(v1)
    v2["forms"][0]["fields"].append({"key": "note", "type": "textarea", "label": {"zh": "备注", "en": "Note"}})
    apply_app(db, AppDef.from_dict(v2))
    with db.connect() as conn:
        upgraded = installed_document_bytes(conn, lang="zh")
    assert "备注".encode() in upgraded and "备注".encode() not in first


class SalesView:
    """A policy for the test: customers seen in part and edited in less; orders not at all."""

    def access(self, app, form, actor):
        if form.key == "customers":
            return FormAccess.limited(form, actions={VIEW, EDIT}, visible={"name", "phone", "level"},
                                      editable={"phone"})
        if form.key == "orders":
            return FormAccess.limited(form, actions=set())
        return FULL


def test_with_a_policy_the_document_is_what_the_caller_may_use():
    doc = build_document([flagship()], policy=SalesView(), actor=Actor.system())
    assert_openapi_31(doc)
    schemas, paths = doc["components"]["schemas"], doc["paths"]
    base = "/api/v1/apps/crm_referral/forms/customers/records"
    assert list(schemas["crm_referral.customers.Fields"]["properties"]) == ["name", "phone", "level"]
    assert list(schemas["crm_referral.customers.Patch"]["properties"]) == ["phone", "version"]
    assert set(paths[base]) == {"get"} and set(paths[base + "/{id}"]) == {"parameters", "get", "patch"}
    assert base + "/{id}/restore" not in paths
    assert base + "/{id}/related/orders.customer" not in paths and base + "/{id}/related/contacts.customer" in paths
    assert not [name for name in schemas if name.startswith("crm_referral.orders.")]
    assert not [path for path in paths if "/forms/orders/" in path]


def _refs(node):
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_every_reference_resolves_and_every_path_parameter_is_declared():
    doc = build_document([flagship(), lab()])
    for target in set(_refs(doc)):
        node = doc
        for part in target.removeprefix("#/").split("/"):
            node = node[part]
    parameters = doc["components"]["parameters"]
    for path, item in doc["paths"].items():
        for _, operation in ((m, op) for m, op in item.items() if m in ("get", "post", "patch", "delete")):
            declared = {parameters[p["$ref"].rsplit("/", 1)[1]]["name"] if "$ref" in p else p["name"]
                        for p in item.get("parameters", []) + operation.get("parameters", [])}
            assert set(re.findall(r"\{(\w+)\}", path)) <= declared, path


def test_every_workflow_action_has_its_body_described_and_no_other():
    """The document's task paths come from ACTION_ARGUMENTS: an action added to the
    workflow service without its body keys would be missing from the API's contract."""
    assert sorted(ACTION_ARGUMENTS) == sorted(ACTIONS)

"""The JSON Schemas of the REST API's bodies: each form's records (as read, as created,
as patched) from its field types' value schemas (FieldType.json_schema), and the shapes
every endpoint shares (the error, a page, a count, history, a file).

Pure: compiled apps in, plain dicts out (runtime/api/openapi.py puts them in the document).
"""
from __future__ import annotations


from engine.compiled.app import App
from engine.definition.model import FieldDef, FormDef, Label
from engine.fields.base import READ_ID, FieldType, SchemaContext, with_null
from runtime.api.errors import ERROR_CODES
from runtime.api.requests import MAX_CREATE
from runtime.permissions import FULL, FormAccess
from runtime.records.history import ACTIONS

_USER_ID = {"type": ["integer", "null"], "minimum": 1}
_TIME = {"type": "string", "format": "date-time"}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def schema_name(app: App, form: FormDef, kind: str) -> str:
    """A form's schema name in the document: "crm_referral.customers.Record"."""
    return f"{app.key}.{form.key}.{kind}"


def _text(label: Label | None, lang: str) -> str | None:
    return label.get(lang) if label is not None else None


def _described(schema: dict, title: str | None, description: str | None) -> dict:
    out = {}
    if title:
        out["title"] = title
    if description:
        out["description"] = description
    return {**out, **schema}


class FormSchemas:
    """The record schemas of one form of a compiled app, in one language, as one caller
    may use them (`access`): a field it may not see is in none of them, a field it may
    not change in no write schema."""

    def __init__(self, app: App, form: FormDef, lang: str, access: FormAccess = FULL):
        self.app, self.form, self.lang, self.access = app, form, lang, access
        self.types = app.form_types(form)
        self.shown = [f for f in form.fields if access.can_see(f.key)]

    def _lookup_target(self, ftype: FieldType) -> FieldType | None:
        resolved = ftype.resolve(self.form, self.app.definition) if ftype.path_kind == "lookup" else None
        return self.app.types.of(resolved[1]) if resolved else None

    def context(self, mode: str) -> SchemaContext:
        return SchemaContext(mode, self.lang, self._lookup_target)

    def field_schema(self, fdef: FieldDef, mode: str) -> dict:
        ftype = self.types[fdef.key]
        schema = with_null(ftype.json_schema(self.context(mode)))
        description = _text(fdef.description, self.lang)
        if description and "description" in schema:
            description = f"{description} ({schema['description']})"
        schema = _described({k: v for k, v in schema.items() if k != "description"},
                             fdef.label.get(self.lang), description or schema.get("description"))
        return {**schema, "readOnly": True} if mode == "read" and not ftype.accepts_input else schema

    def fields(self) -> dict:
        """The `fields` object of a record as read: every field, each only when the reader
        may see it (so none is required)."""
        return {"type": "object", "additionalProperties": False,
                "properties": {f.key: self.field_schema(f, "read") for f in self.shown}}

    def record(self) -> dict:
        properties = {
            "id": READ_ID, "version": {"type": "integer", "minimum": 1},
            "created_at": _TIME, "updated_at": _TIME, "created_by": _USER_ID, "updated_by": _USER_ID,
            "owner_id": _USER_ID, "deleted_at": {"type": ["string", "null"], "format": "date-time"},
            "fields": ref(schema_name(self.app, self.form, "Fields")), "titles": ref("Titles"),
        }
        required = [k for k in properties if k != "titles"]
        return _described({"type": "object", "properties": properties, "required": required,
                           "additionalProperties": False},
                          self.form.label.get(self.lang), _text(self.form.description, self.lang))

    def _writable(self) -> list[FieldDef]:
        return [f for f in self.shown if self.types[f.key].accepts_input and self.access.can_edit(f.key)]

    def create(self) -> dict:
        """A new record: the fields that take input; those required without a default (or
        a default formula, or a visibility condition that may waive them) must be given."""
        formulas = self.app.record_formulas(self.form.key)
        fields = self._writable()
        required = [f.key for f in fields if f.required and f.default is None
                    and f.key not in formulas.defaults and f.key not in formulas.visibility]
        schema = {"type": "object", "additionalProperties": False,
                  "properties": {f.key: self.field_schema(f, "write") for f in fields}}
        if required:
            schema["required"] = required
        return schema

    def patch(self) -> dict:
        """The fields to change (only those given change), and the version edited."""
        properties = {f.key: self.field_schema(f, "write") for f in self._writable()}
        properties["version"] = {"type": "integer", "minimum": 1,
                                 "description": "the version you edited (or If-Match); 409 when it moved on"}
        return {"type": "object", "additionalProperties": False, "properties": properties}

    def create_body(self) -> dict:
        one = ref(schema_name(self.app, self.form, "Create"))
        return {"oneOf": [one, {"type": "array", "items": one, "minItems": 1, "maxItems": MAX_CREATE}]}

    def page(self) -> dict:
        return page_schema(ref(schema_name(self.app, self.form, "Record")))

    def components(self) -> dict[str, dict]:
        name = lambda kind: schema_name(self.app, self.form, kind)   # noqa: E731
        return {name("Record"): self.record(), name("Fields"): self.fields(), name("Create"): self.create(),
                name("Patch"): self.patch(), name("CreateBody"): self.create_body(),
                name("List"): {"type": "object", "required": ["items"], "additionalProperties": False,
                               "properties": {"items": {"type": "array", "items": ref(name("Record"))}}},
                name("Page"): self.page()}


def page_schema(record: dict) -> dict:
    return {"type": "object", "required": ["items", "next_cursor", "count"], "additionalProperties": False,
            "properties": {"items": {"type": "array", "items": record},
                           "next_cursor": {"type": ["string", "null"],
                                           "description": "give it as `cursor` for the next page; null on the last"},
                           "count": {"anyOf": [ref("Count"), {"type": "null"}]}}}


def shared_schemas() -> dict[str, dict]:
    """The schemas every app's endpoints share."""
    issue = {"type": "object", "required": ["field", "code", "message", "message_zh", "message_en"],
             "properties": {
                 "field": {"type": "string", "description": "the field key, or the parameter (filter, sort, "
                                                            "limit, cursor, If-Match, body...)"},
                 "code": {"type": "string"}, "message": {"type": "string"},
                 "message_zh": {"type": "string"}, "message_en": {"type": "string"},
                 "params": {"type": "object"},
                 "record": {"type": "integer", "minimum": 0, "description": "position in a list sent to create"},
                 "row": {"type": "integer", "minimum": 0, "description": "subform row (0-based)"},
                 "subfield": {"type": ["string", "null"], "description": "subform column"},
                 "path": {"type": "string", "description": "where in the filter or sort"},
                 "line": {"type": "integer", "minimum": 1}, "column": {"type": "integer", "minimum": 1}}}
    error = {"type": "object", "required": ["error"], "additionalProperties": False, "properties": {
        "error": {"type": "object", "required": ["code", "message", "message_zh", "message_en", "fields"],
                  "properties": {"code": {"type": "string", "examples": list(ERROR_CODES)},
                                 "message": {"type": "string"}, "message_zh": {"type": "string"},
                                 "message_en": {"type": "string"},
                                 "fields": {"type": "array", "items": ref("ErrorField")},
                                 "details": {"type": "object"}}}}}
    count = {"type": "object", "required": ["value", "kind"], "additionalProperties": False, "properties": {
        "value": {"type": "integer", "minimum": 0},
        "kind": {"enum": ["exact", "estimate", "capped"],
                 "description": "exact; estimate (the database's, beyond 10,000); capped: at least `value`"}}}
    titles = {"type": "object", "description": "the titles of the records relations and lookups point at, "
                                               "by field key, then record id",
              "additionalProperties": {"type": "object", "additionalProperties": {
                  "type": "object", "required": ["title", "deleted"],
                  "properties": {"title": {"type": "string"}, "deleted": {"type": "boolean"}}}}}
    change = {"type": "object", "required": ["from", "to"], "properties": {"from": {}, "to": {}}}
    history = {"type": "object", "required": ["items"], "additionalProperties": False, "properties": {
        "items": {"type": "array", "items": {
            "type": "object", "required": ["version", "action", "user_id", "at", "changes"],
            "properties": {"version": {"type": "integer", "minimum": 0},
                           "action": {"enum": list(ACTIONS.values())},
                           "user_id": _USER_ID, "at": _TIME,
                           "changes": {"type": "object", "additionalProperties": change}}}}}}
    file = {"type": "object", "required": ["id", "name", "size", "content_type"], "properties": {
        "id": READ_ID, "name": {"type": "string"}, "size": {"type": "integer", "minimum": 1},
        "content_type": {"type": "string"}, "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "created_at": _TIME}}
    upload = {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "contentMediaType": "application/octet-stream"},
        "app": {"type": "string", "description": "with form and field: the field the file is for, whose "
                                                 "size and type limits apply"},
        "form": {"type": "string"}, "field": {"type": "string"}}}
    return {"Error": error, "ErrorField": issue, "Count": count, "Titles": titles, "History": history,
            "File": file, "FileUpload": upload}

"""The API's OpenAPI document (GET /api/v1/openapi.json) and a page that shows it to
people (GET /api/docs), both of what the caller may do: the document is
runtime.api.openapi.installed_document_bytes for the caller's permissions, built again
only when an app changes (or for permissions no kept document matches).

The page is rendered on the server from the same document: each tag (an app, files),
its operations with their parameters, request body and responses, then every schema
with its properties. No script, no CDN.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, render_template, request
from markupsafe import Markup, escape

from engine.storage.db import read_connection
from runtime.api.openapi import installed_document_bytes
from web.api.limits import check_rate_limit, rate_headers
from web.context import current_actor, db_engine, login_required, page_lang, state

bp = Blueprint("api_docs", __name__, url_prefix="/api")
bp.before_request(check_rate_limit)
bp.after_request(rate_headers)

METHODS = ("get", "post", "patch", "put", "delete")


def document_bytes(lang: str) -> bytes:
    with read_connection(db_engine()) as conn:
        return installed_document_bytes(conn, lang=lang, policy=state().policy, actor=current_actor())


@bp.get("/v1/openapi.json")
@login_required
def openapi_document():
    lang = "zh" if request.args.get("lang") == "zh" else "en"      # English unless ?lang=zh
    return Response(document_bytes(lang), mimetype="application/json")


@bp.get("/docs")
@login_required
def docs_page():
    document = json.loads(document_bytes(page_lang()))
    return render_template("api/docs.html", doc=DocsPage.of(document))


_SCHEMA_REF = re.compile(r"→ ([A-Za-z0-9_.]+)")


@bp.app_template_filter("schema_links")
def schema_links(text: str) -> Markup:
    """type_text's "→ Name" as links to the schema on the page (the rest escaped)."""
    return Markup(_SCHEMA_REF.sub(lambda m: f'<a href="#schema-{m[1]}">→ {m[1]}</a>', str(escape(text))))


# ---- the page's view of the document ---------------------------------------------------

@dataclass
class Row:
    name: str
    where: str
    type: str
    required: bool
    description: str = ""


@dataclass
class Operation:
    method: str
    path: str
    operation_id: str
    summary: str
    parameters: list[Row]
    body: str | None
    responses: list[Row]

    @property
    def anchor(self) -> str:
        return "op-" + self.operation_id


@dataclass
class Tag:
    name: str
    description: str
    operations: list[Operation] = field(default_factory=list)


@dataclass
class Schema:
    name: str
    type: str
    description: str
    properties: list[Row]

    @property
    def anchor(self) -> str:
        return "schema-" + self.name


@dataclass
class DocsPage:
    title: str
    version: str
    description: str
    tags: list[Tag]
    schemas: list[Schema]

    @classmethod
    def of(cls, document: dict[str, Any]) -> "DocsPage":
        components = document.get("components", {})
        tags = {t["name"]: Tag(t["name"], t.get("description", "")) for t in document.get("tags", [])}
        for path, item in document.get("paths", {}).items():
            shared = item.get("parameters", [])
            for method in METHODS:
                if method in item:
                    operation = _operation(path, method, item[method], shared, components)
                    for name in item[method].get("tags") or ["-"]:
                        tags.setdefault(name, Tag(name, "")).operations.append(operation)
        schemas = [_schema(name, schema) for name, schema in sorted(components.get("schemas", {}).items())]
        info = document.get("info", {})
        return cls(info.get("title", ""), info.get("version", ""), info.get("description", ""),
                   [tag for tag in tags.values() if tag.operations], schemas)


def _resolve(node: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """A `#/components/<kind>/<name>` reference followed (once: components do not chain)."""
    target = node.get("$ref", "")
    if target.startswith("#/components/"):
        kind, _, name = target[len("#/components/"):].partition("/")
        return components.get(kind, {}).get(name, {})
    return node


def _operation(path: str, method: str, op: dict[str, Any], shared: list, components: dict) -> Operation:
    parameters = [_resolve(p, components) for p in [*shared, *op.get("parameters", [])]]
    rows = [Row(p.get("name", ""), p.get("in", ""), type_text(p.get("schema", {})), bool(p.get("required")),
                p.get("description", "")) for p in parameters]
    body = None
    if "requestBody" in op:
        body = "; ".join(f"{media}: {type_text(content.get('schema', {}))}"
                         for media, content in op["requestBody"].get("content", {}).items())
    responses = []
    for status, answer in op.get("responses", {}).items():
        answer = _resolve(answer, components)
        media = answer.get("content", {})
        shown = "; ".join(type_text(content.get("schema", {})) for content in media.values()) or "-"
        responses.append(Row(status, "", shown, False, answer.get("description", "")))
    return Operation(method.upper(), path, op.get("operationId", ""), op.get("summary", ""), rows, body, responses)


def _schema(name: str, schema: dict[str, Any]) -> Schema:
    rows = _property_rows(schema, "")
    return Schema(name, type_text(schema) if not rows else "object", schema.get("description", ""), rows)


def _property_rows(schema: dict[str, Any], prefix: str, depth: int = 0) -> list[Row]:
    """A row per property; an object property's own properties follow it as `a.b`
    (a record's `fields`, an address's parts)."""
    required = set(schema.get("required", []))
    rows = []
    for key, prop in (schema.get("properties") or {}).items():
        text = type_text(prop) + (" (read only)" if prop.get("readOnly") else "")
        rows.append(Row(prefix + key, "", text, key in required, prop.get("description") or prop.get("title", "")))
        if isinstance(prop, dict) and prop.get("properties") and depth < 2:
            rows.extend(_property_rows(prop, f"{prefix}{key}.", depth + 1))
    return rows


def type_text(schema: Any, depth: int = 0) -> str:
    """A short reading of a JSON schema: "string (date)", "integer 1..500", "array of X",
    "A | B", "→ Name" for a reference."""
    if not isinstance(schema, dict) or depth > 3:
        return "any"
    if "$ref" in schema:
        return "→ " + schema["$ref"].rsplit("/", 1)[-1]
    for combiner, joint in (("oneOf", " | "), ("anyOf", " | "), ("allOf", " & ")):
        if combiner in schema:
            return joint.join(type_text(s, depth + 1) for s in schema[combiner])
    if "enum" in schema:
        return "one of " + ", ".join(json.dumps(v, ensure_ascii=False) for v in schema["enum"][:12])
    if "const" in schema:
        return json.dumps(schema["const"], ensure_ascii=False)
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        kind = " | ".join(kind)
    if kind == "array" or (isinstance(kind, str) and "array" in kind and "items" in schema):
        return f"array of {type_text(schema.get('items', {}), depth + 1)}"
    details = [schema[k] for k in ("format", "contentMediaType", "pattern") if k in schema]
    low, high = schema.get("minimum", schema.get("minLength")), schema.get("maximum", schema.get("maxLength"))
    if low is not None or high is not None:
        details.append(f"{'' if low is None else low}..{'' if high is None else high}")
    return kind + (f" ({', '.join(str(d) for d in details)})" if details else "")

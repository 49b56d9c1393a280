"""Validating a definition document: JSON Schema first (shape), then the semantic
pass (meaning). Every problem is reported at once, with its path, line:column and
a "did you mean" where a name is misspelt."""
from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from engine.definition.loader import Loaded, load_text
from engine.definition.model import AppDef
from engine.definition.schema import KEY_PATTERN, definition_schema
from engine.definition.semantic import check_app
from engine.definition.suggest import did_you_mean
from engine.errors import Problem
from engine.fields.registry import RESERVED_TYPES, type_names

_validator: Draft202012Validator | None = None


def _schema_validator() -> Draft202012Validator:
    global _validator
    if _validator is None:
        _validator = Draft202012Validator(definition_schema())
    return _validator


def path_text(parts) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def schema_problems(data: Any) -> list[Problem]:
    problems = []
    for error in sorted(_schema_validator().iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        problems.extend(_translate(error, data))
    # One message per place is enough: keep the first of each (path, message).
    unique, seen = [], set()
    for p in problems:
        if (p.path, p.message) not in seen:
            seen.add((p.path, p.message))
            unique.append(p)
    return unique


def _translate(error, data) -> list[Problem]:
    path = path_text(error.absolute_path)
    kind = error.validator
    if kind in ("allOf", "anyOf", "oneOf") and error.context:
        out = []
        for sub in error.context:
            out.extend(_translate(sub, data))
        return out
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "?"
        return [Problem(path, f"missing required key {missing!r}", code="required")]
    if kind == "additionalProperties":
        allowed = sorted((error.schema.get("properties") or {}).keys())
        extras = [k for k in error.instance if k not in allowed] if isinstance(error.instance, dict) else []
        where = f" for a {error.instance.get('type')} field" if isinstance(error.instance, dict) and \
            "type" in error.instance and path.count("fields[") else ""
        return [Problem(f"{path}.{key}" if path else key, f"unknown key {key!r}{where}; allowed: "
                        f"{', '.join(allowed)}", code="unknown_key", suggestion=did_you_mean(key, allowed))
                for key in extras]
    if kind == "pattern" and error.schema.get("pattern") == KEY_PATTERN:
        return [Problem(path, f"{error.instance!r} is not a valid key: use lower-case letters, digits and "
                        "single underscores, starting with a letter (like 'customer_name')", code="bad_key")]
    if kind == "enum" and path.endswith(".type") and "fields[" in path:
        name = str(error.instance)
        if name in RESERVED_TYPES:
            return [Problem(path, f"field type {name!r} is not available yet: {RESERVED_TYPES[name]}",
                            code="unavailable_type")]
        return [Problem(path, f"unknown field type {name!r}", code="unknown_type",
                        suggestion=did_you_mean(name, type_names()))]
    if kind == "const" and path == "format_version":
        return [Problem(path, f"format_version {error.instance!r} is not supported; this Formwork reads "
                        f"format_version {error.validator_value}", code="format_version")]
    if kind == "type":
        expected = error.validator_value
        return [Problem(path, f"expected {_kind(expected)}, got {_kind_of(error.instance)}", code="type")]
    if kind == "maxLength":
        return [Problem(path, f"too long: at most {error.validator_value} characters", code="too_long")]
    if kind == "minLength":
        what = "must not be empty" if error.validator_value == 1 else \
            f"at least {error.validator_value} characters"
        return [Problem(path, what, code="too_short")]
    if kind == "enum":
        options = error.validator_value
        return [Problem(path, f"{error.instance!r} is not one of {', '.join(map(repr, options))}",
                        code="enum", suggestion=did_you_mean(str(error.instance), [str(o) for o in options]))]
    return [Problem(path, error.message, code=kind)]


def _kind(expected) -> str:
    names = {"object": "a mapping", "array": "a list", "string": "text", "integer": "a whole number",
             "number": "a number", "boolean": "true or false", "null": "null"}
    if isinstance(expected, list):
        return " or ".join(names.get(e, e) for e in expected)
    return names.get(expected, expected)


def _kind_of(value) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if value is None:
        return "nothing (null)"
    return f"text {str(value)[:40]!r}"


def check_loaded(loaded: Loaded, name: str | None) -> tuple[AppDef | None, list[Problem]]:
    problems = list(loaded.problems)
    app = None
    if not problems:
        problems = schema_problems(loaded.data)
        if not problems:
            app = AppDef.from_dict(loaded.data, source_name=name)
            problems = check_app(app)
    for p in problems:
        p.source = name
        if p.line is None and p.path:
            p.line, p.column = loaded.position(p.path)
    problems.sort(key=lambda p: (p.line or 0, p.column or 0))
    return (app if not problems else None), problems


def check_text(text: bytes | str, name: str | None = None) -> tuple[AppDef | None, list[Problem]]:
    return check_loaded(load_text(text, name), name)

"""Validating a definition document: the JSON Schema (shape) and the semantic pass
(meaning), both always, so that every problem is reported at once, each with its
path, line:column, a way to fix it and a "did you mean" where a name is misspelt.

The semantic pass runs on the parts the JSON Schema accepted: a field whose own
keys are malformed takes part only in the checks of names (see semantic.py), and
when some form or field has no readable key at all, "no such form/field" problems
are held back, because the unnamed one may be the one meant; they appear once its
key is fixed.
"""
from __future__ import annotations

from typing import Any

from engine.definition.loader import Loaded, load_text
from engine.definition.model import AppDef
from engine.errors import Problem
from engine.validation.checks import FormulaDefinitionProblem
from engine.validation.schema_errors import FIELD_PATH, schema_problems, unique_problems
from engine.validation.semantic import check_app, warnings_of

# Problems about a key itself (not its value) point at the key.
_AT_KEY = frozenset({"unknown_key"})
# Problems that say a name was not found; held back while some names are unreadable.
_NOT_FOUND = {"unknown_form": "forms", "unknown_field": "fields"}


def malformed_fields(shape_problems: list[Problem]) -> frozenset[str]:
    """Paths of the fields whose own keys broke the JSON Schema (an unknown key is
    ignored by the field's type, so it does not make the field malformed)."""
    return frozenset(match.group() for p in shape_problems if p.code != "unknown_key"
                     for match in [FIELD_PATH.match(p.path)] if match)


def unreadable_names(data: dict) -> set[str]:
    """Which of "forms" and "fields" have a member without a readable key."""
    found: set[str] = set()
    forms = data.get("forms", [])
    if not isinstance(forms, list):
        return {"forms", "fields"}
    for form in forms:
        if not isinstance(form, dict) or not isinstance(form.get("key"), str):
            found.add("forms")
        if isinstance(form, dict) and not _fields_named(form.get("fields")):
            found.add("fields")
    return found


def _fields_named(fields: Any) -> bool:
    if not isinstance(fields, list):
        return False
    return all(isinstance(f, dict) and isinstance(f.get("key"), str)
               and ("fields" not in f or _fields_named(f["fields"])) for f in fields)


def check_loaded(loaded: Loaded, name: str | None) -> tuple[AppDef | None, list[Problem]]:
    problems = list(loaded.problems)
    app = None
    if not problems:
        shape = schema_problems(loaded.data)
        app = AppDef.from_dict(loaded.data, source_name=name)
        meaning = check_app(app, malformed_fields(shape))
        if shape:
            unreadable = unreadable_names(loaded.data)
            meaning = [p for p in meaning if _NOT_FOUND.get(p.code) not in unreadable]
        problems = unique_problems(shape + meaning)
    for p in problems:
        p.source = name
        if p.line is None:
            p.line, p.column = loaded.position(p.path, key=p.code in _AT_KEY)
            if isinstance(p, FormulaDefinitionProblem) and p.path in loaded.positions:
                p.line, p.column = p.source_position(loaded.text, p.line, p.column)
    problems.sort(key=lambda p: (p.line or 0, p.column or 0))
    return (app if not problems else None), problems


def check_text(text: bytes | str, name: str | None = None) -> tuple[AppDef | None, list[Problem]]:
    return check_loaded(load_text(text, name), name)


def check_text_with_warnings(text: bytes | str, name: str | None = None
                             ) -> tuple[AppDef | None, list[Problem], list[Problem]]:
    """check_text, and the warnings of a valid definition (each with its line:column)."""
    loaded = load_text(text, name)
    app, problems = check_loaded(loaded, name)
    warnings = warnings_of(app) if app is not None else []
    for p in warnings:
        p.source = name
        p.line, p.column = loaded.position(p.path, key=False)
    return app, problems, warnings

"""Validating app definitions: the JSON Schema of their shape, the meaning of every
name, formula, rollup and rule, all problems at once with path and line:column.

    from engine.validation import load_definition
    app = load_definition(Path("apps/crm_referral.yaml"))   # DefinitionError lists every problem

`load_definition` takes a `pathlib.Path` for a file and a `str` (or bytes) for the
text itself; a str is never guessed to be a file name.

    validate       the whole pass over a document: shape, then meaning
    schema         the published JSON Schema (engine/definition/formwork.schema.json)
    schema_errors  JSON Schema errors turned into problems a user can act on
    semantic       names, references, identifiers, per-type options
    checks         formulas, rollups, rules and cycles, with positions
    row_checks     formula columns of subforms
    permissions    the permission sets: forms, fields, actions and row filters
"""
from __future__ import annotations

from pathlib import Path

from engine.definition.loader import read_source
from engine.definition.model import AppDef
from engine.errors import DefinitionError, Problem
from engine.validation.validate import check_text, check_text_with_warnings

__all__ = ["check_definition_text", "check_definition_warnings", "load_definition", "read_source"]


def check_definition_text(text: str | bytes, name: str | None = None) -> tuple[AppDef | None, list[Problem]]:
    """The definition and every problem found in it (the definition is None when the
    text cannot be read as one)."""
    return check_text(text, name)


def check_definition_warnings(text: str | bytes, name: str | None = None
                              ) -> tuple[AppDef | None, list[Problem], list[Problem]]:
    """check_definition_text, and the warnings of a valid definition (an indirect reward level)."""
    return check_text_with_warnings(text, name)


def load_definition(source: str | bytes | Path, name: str | None = None) -> AppDef:
    if isinstance(source, Path):
        name = name or str(source)
        source = read_source(source)
    app, problems = check_definition_text(source, name)
    if problems:
        raise DefinitionError(problems)
    return app

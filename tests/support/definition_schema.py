"""The published JSON Schema of definitions against the validator's own shape checks
(used by the fuzzing and by the corpus of broken definitions)."""
from __future__ import annotations

from jsonschema import Draft202012Validator

from engine.validation.schema import definition_schema
from engine.validation.schema_errors import shape_checker

PUBLISHED = Draft202012Validator(definition_schema())


def assert_same_verdicts_as_the_published_schema(document):
    """The validator applies the schema field by field; the published schema (one `if`
    per type) finds the very same errors, at the same places."""
    published = {(tuple(e.absolute_path), e.validator) for e in PUBLISHED.iter_errors(document)}
    checked = {((*prefix, *e.absolute_path), e.validator) for prefix, e in shape_checker().errors(document)}
    assert checked == published

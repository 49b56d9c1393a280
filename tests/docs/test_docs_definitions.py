"""docs/definitions.md stays true.

Its ```yaml blocks are marked by their info string:
- `yaml definition` (often with `file=NAME`): a complete definition; it must be valid;
- `yaml fields`: a list of fields as written under a form's `fields:`; it must be valid
  as the fields of a form beside a `customers` form;
- `yaml file=NAME` alone: a file the ```console examples use (a broken one, say).
The ```console examples are run as a transcript (the runner of tests/support/transcripts.py),
and the rules the page states (limits, reserved words) are compared with the code.
"""
from __future__ import annotations

import re

import pytest
import yaml

from engine.definition import loader
from engine.definition.identifiers import (APP_KEY_MAX, FIELD_KEY_MAX, FORM_KEY_MAX, SQL_RESERVED_WORDS,
                                           SYSTEM_COLUMN_KEYS)
from engine.validation import check_definition_text
from engine.validation.schema import definition_schema
from tests.support.paths import DOCS
from tests.support.transcripts import play

DOC = DOCS / "definitions.md"
_FENCE = re.compile(r"^```yaml([^\n]*)\n(.*?)^```[ \t]*$", re.M | re.S)


def yaml_blocks(kind: str) -> list[tuple[int, str]]:
    """(line, text) of the ```yaml blocks whose info string holds `kind`."""
    text = DOC.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 1, m.group(2)) for m in _FENCE.finditer(text)
            if kind in m.group(1).split()]


def test_every_yaml_block_is_marked():
    text = DOC.read_text(encoding="utf-8")
    for match in _FENCE.finditer(text):
        words = match.group(1).split()
        assert {"definition", "fields"} & set(words) or any(w.startswith("file=") for w in words), \
            f"docs/definitions.md:{text.count(chr(10), 0, match.start()) + 1}: mark the yaml block as " \
            "`definition`, `fields` or `file=NAME`"


DEFINITIONS = yaml_blocks("definition")
FIELD_LISTS = yaml_blocks("fields")


@pytest.mark.parametrize("line, text", DEFINITIONS, ids=[f"line {line}" for line, _ in DEFINITIONS])
def test_complete_definitions_are_valid(line, text):
    app, problems = check_definition_text(text, f"docs/definitions.md (block at line {line})")
    assert problems == [], "\n".join(p.format() for p in problems)
    assert app.forms


def _with_fields(fields_text: str) -> str:
    fields = yaml.safe_load(fields_text)
    return yaml.safe_dump({
        "format_version": 1, "app": {"key": "doc", "label": {"zh": "文档", "en": "Doc"}},
        "forms": [{"key": "customers", "label": {"zh": "客户", "en": "Customers"},
                   "fields": [{"key": "name", "type": "text", "label": {"zh": "名称", "en": "Name"}}]},
                  {"key": "example", "label": {"zh": "示例", "en": "Example"}, "fields": fields}]},
        allow_unicode=True)


@pytest.mark.parametrize("line, text", FIELD_LISTS, ids=[f"line {line}" for line, _ in FIELD_LISTS])
def test_field_lists_are_valid(line, text):
    app, problems = check_definition_text(_with_fields(text), f"docs/definitions.md (block at line {line})")
    assert problems == [], "\n".join(p.format() for p in problems)


def test_there_are_examples_of_each_kind():
    assert len(DEFINITIONS) >= 2 and len(FIELD_LISTS) >= 2


def test_the_commands_print_what_is_shown(tmp_path, monkeypatch):
    monkeypatch.setenv("FORMWORK_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    results = play(DOC, tmp_path)
    assert any(code == 1 for _, code, _ in results) and any(code == 0 for _, code, _ in results)


def test_the_stated_rules_are_the_rules_of_the_code():
    text = " ".join(DOC.read_text(encoding="utf-8").split())
    listed = text.split("<!-- reserved-words -->")[1].split("<!-- /reserved-words -->")[0]
    assert {w.strip() for w in listed.split(",")} == SQL_RESERVED_WORDS
    system_columns = re.search(r"system columns every record already has: (.*?);", text).group(1)
    assert set(re.findall(r"`(\w+)`", system_columns)) == SYSTEM_COLUMN_KEYS
    assert APP_KEY_MAX == FORM_KEY_MAX
    assert f"at most {APP_KEY_MAX} characters for an app or a form, and {FIELD_KEY_MAX} for a field" in text
    assert f"more than {loader.MAX_BYTES // 1024 // 1024} MiB" in text
    assert f"more than {loader.MAX_NODES:,} values" in text
    assert f"deeper than {loader.MAX_DEPTH} levels" in text
    label = definition_schema()["$defs"]["label"]["properties"]["zh"]
    assert f"each text from {label['minLength']} to {label['maxLength']} characters" in text
    description = definition_schema()["$defs"]["text"]["properties"]["zh"]
    assert f"up to {description['maxLength']:,} characters each" in text
    assert f"up to {definition_schema()['$defs']['form']['properties']['default_sort']['maxItems']} items" in text

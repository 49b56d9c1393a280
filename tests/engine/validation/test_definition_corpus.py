"""The corpus of broken definitions (tests/engine/validation/broken): each file reports
exactly the problems its .expect file lists, at their line:column; and the refusals
that must happen before any work is done (huge files, alias bombs)."""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from engine.definition import loader
from engine.definition.identifiers import SQL_RESERVED_WORDS, SYSTEM_COLUMN_KEYS
from engine.definition.model import AppDef
from engine.errors import DefinitionError
from engine.query.tables import CHILD_SYSTEM_COLUMNS, SYSTEM_COLUMNS
from engine.validation import check_definition_text, load_definition
from tests.support.definition_schema import assert_same_verdicts_as_the_published_schema
from tests.support.paths import BROKEN_DEFINITIONS as CORPUS, FLAGSHIP_APP
from tests.support.records_app import DEFINITION, L

CASES = sorted(p for p in CORPUS.iterdir() if p.suffix in (".yaml", ".json"))
_EXPECT = re.compile(r"^(\d+):(\d+) (\S+) \| (.+?)(?: \| did you mean (.+))?$")


@dataclass
class Expected:
    line: int
    column: int
    path: str
    fragment: str
    suggestion: str | None


def expected_problems(case: Path) -> list[Expected]:
    rows = []
    for number, text in enumerate(case.with_suffix(".expect").read_text(encoding="utf-8").splitlines(), 1):
        match = _EXPECT.match(text)
        assert match, f"{case.with_suffix('.expect').name}:{number}: not LINE:COL PATH | FRAGMENT"
        line, column, path, fragment, suggestion = match.groups()
        rows.append(Expected(int(line), int(column), "" if path == "<root>" else path, fragment, suggestion))
    return rows


def test_the_corpus_is_large_and_every_case_has_its_expectations():
    assert len(CASES) >= 45
    expects = {p.stem for p in CORPUS.glob("*.expect")}
    assert expects == {p.stem for p in CASES}
    assert len({p.stem for p in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_broken_definition(case):
    expected = expected_problems(case)
    with pytest.raises(DefinitionError) as refused:
        load_definition(case)
    problems = refused.value.problems
    assert [(p.line, p.column, p.path) for p in problems] == [(e.line, e.column, e.path) for e in expected], \
        "\n".join(p.format() for p in problems)
    for problem, want in zip(problems, expected):
        assert want.fragment in problem.message, problem.format()
        assert problem.suggestion == want.suggestion or want.suggestion is None, problem.format()
        assert problem.source == str(case)
        assert problem.format().startswith(f"{case}:{want.line}:{want.column}: ")


READABLE = [case for case in CASES if not loader.load_text(case.read_bytes()).problems]


@pytest.mark.parametrize("case", READABLE, ids=lambda p: p.name)
def test_the_published_schema_finds_the_same_shape_errors(case):
    assert_same_verdicts_as_the_published_schema(loader.load_text(case.read_bytes()).data)


# ---- every problem at once ---------------------------------------------------------------

def _problems(text: str) -> list:
    app, problems = check_definition_text(text, "app.yaml")
    assert app is None
    return problems


def test_shape_and_meaning_problems_are_reported_together():
    """An unknown type (JSON Schema), a misspelt relation target and a duplicate key
    (semantic pass) in one file: all three, in the order of the file."""
    problems = _problems((CORPUS / "several_problems_at_once.yaml").read_text(encoding="utf-8"))
    assert [p.code for p in problems] == ["unknown_type", "unknown_form", "duplicate_key"]


def test_a_malformed_field_still_takes_part_in_the_checks_of_names():
    document = copy.deepcopy(DEFINITION)
    orders = document["forms"][2]["fields"]
    orders[0]["max_length"] = "long"          # the JSON Schema refuses this field ...
    orders.append({"key": "title", "type": "text", "label": L("标题")})   # ... and it is still a name
    problems = _problems(yaml.safe_dump(document, allow_unicode=True))
    assert [(p.path, p.code) for p in problems] == [
        ("forms[2].fields[0].max_length", "type"), ("forms[2].fields[6].key", "duplicate_key")]


def test_not_found_names_are_held_back_while_a_key_is_unreadable_then_reported():
    text = (CORPUS / "field_without_key.yaml").read_text(encoding="utf-8")
    assert [p.code for p in _problems(text)] == ["required"]
    fixed = text.replace("      - type: text\n", "      - key: code\n        type: text\n")
    problems = _problems(fixed)
    assert [(p.code, p.suggestion) for p in problems] == [("unknown_field", "name")]


def test_a_model_is_built_from_any_document_without_raising():
    for document in ({}, {"app": [], "forms": "x"}, {"forms": [1, {"key": 2}, {"key": "a", "fields": [None]}]}):
        app = AppDef.from_dict(document)
        assert all(isinstance(form.key, str) for form in app.forms)


# ---- valid definitions stay valid ------------------------------------------------------------

def test_the_flagship_app_and_the_test_app_have_no_problems():
    assert load_definition(FLAGSHIP_APP).key == "crm_referral"
    assert load_definition(yaml.safe_dump(DEFINITION, allow_unicode=True)).key == "shop"


def test_reserved_names_cover_the_system_columns_and_sql():
    assert set(SYSTEM_COLUMNS) | set(CHILD_SYSTEM_COLUMNS) <= SYSTEM_COLUMN_KEYS
    assert {"select", "drop", "order", "user", "true", "null", "and"} <= SQL_RESERVED_WORDS


# ---- refused before doing the work --------------------------------------------------------------

def test_a_ten_megabyte_file_is_refused_without_being_read(tmp_path, monkeypatch):
    huge = tmp_path / "huge.yaml"
    with open(huge, "w", encoding="utf-8") as fh:
        fh.write("format_version: 1\nforms:\n")
        line = "  - {key: customers, label: {zh: 客户, en: Customers}, fields: []}\n"
        fh.write(line * (10 * 1024 * 1024 // len(line.encode())))
    assert huge.stat().st_size > 10_000_000

    def never(*args, **kwargs):
        raise AssertionError("a huge file must be refused from its size, before reading it")
    monkeypatch.setattr(Path, "read_bytes", never)
    with pytest.raises(DefinitionError) as refused:
        load_definition(huge)
    [problem] = refused.value.problems
    assert problem.code == "too_large" and "at most 2,097,152 bytes" in problem.message
    monkeypatch.undo()
    # The same text handed over directly is refused by its length, before parsing.
    app, [problem] = check_definition_text(huge.read_bytes(), "huge.yaml")
    assert problem.code == "too_large" and "10 MiB" in problem.message


def test_an_alias_bomb_is_refused_while_composing_before_anything_is_expanded(monkeypatch):
    """Nine levels of nine aliases would expand to 387 million values; the expanded size
    is counted on the composed nodes, and nothing is ever built from them."""
    def never(*args, **kwargs):
        raise AssertionError("an alias bomb must be refused before its values are built")
    monkeypatch.setattr(loader._Builder, "build", never)
    app, [problem] = check_definition_text((CORPUS / "alias_bomb.yaml").read_bytes(), "bomb.yaml")
    assert problem.code == "aliases" and "alias bomb" in problem.message
    # A wider and deeper bomb (50**12 values) is refused at its first list that would
    # pass 200,000 values: a3 on line 4 (a2 expands to 127,551, a3 to 6.4 million).
    levels = ["a0: &a0 [" + ", ".join(['"lol"'] * 50) + "]"]
    levels += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 50) + "]" for i in range(1, 12)]
    app, [problem] = check_definition_text("\n".join(levels), "bomb.yaml")
    assert problem.code == "aliases" and (problem.line, problem.column) == (4, 5)


def test_aliases_of_modest_size_are_read():
    app = load_definition("""format_version: 1
app: {key: shop, label: &shop {zh: 商店, en: Shop}}
forms:
  - key: shops
    label: *shop
    fields:
      - {key: name, type: text, label: *shop}
""")
    assert app.forms[0].label.en == app.forms[0].fields[0].label.en == "Shop"

"""docs/permissions.md stays true: its definition validates, its Python example runs
against it on SQLite and PostgreSQL, and the validation messages it shows are those
`formwork validate` gives for the corpus file it names."""
from __future__ import annotations

import re
from pathlib import Path

from engine.errors import DefinitionError
from engine.validation import load_definition
from runtime.apps import apply_app
from tests.support.paths import BROKEN_DEFINITIONS

ROOT = Path(__file__).resolve().parents[2]
TEXT = (ROOT / "docs" / "permissions.md").read_text(encoding="utf-8")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", TEXT, re.M | re.S)


def test_the_definition_validates_and_the_example_runs(db):
    [definition] = _blocks("yaml")
    apply_app(db, load_definition(definition, "desk.yaml"))
    [example] = _blocks("python")
    scope = {"engine": db}
    exec(compile(example, "docs/permissions.md example", "exec"), scope)
    assert scope["mine"]["fields"]["title"] == "printer jam"


def test_the_messages_shown_are_those_of_the_corpus_file():
    [shown] = [b for b in _blocks("text") if "permissions_bad_sets.yaml" in b]
    case = BROKEN_DEFINITIONS / "permissions_bad_sets.yaml"
    try:
        load_definition(case)
    except DefinitionError as refused:
        told = {f"{case.name}:{p.line}:{p.column}: {p.path}: {p.text('en')}" for p in refused.problems}
    lines = shown.strip().splitlines()
    assert len(lines) == 3 and set(lines) <= told

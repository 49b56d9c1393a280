"""docs/formulas.md: every function is documented, and every example gives its result.

An example is a line `- `FORMULA` → `RESULT`` optionally followed by
`with `{json inputs}``; the format-code table of TEXT holds more. Each one is evaluated
by the reference evaluator and by the compiled one, with the clock the doc states.
"""
from __future__ import annotations

import json
import re
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from engine.formula import EvalContext, compile_formula, evaluate, from_json, parse
from engine.formula.functions import FUNCTIONS
from engine.formula.values import ERROR_CODES, ErrorValue
from tests.support.paths import DOCS

DOC = DOCS / "formulas.md"
TEXT = DOC.read_text(encoding="utf-8")
SH = ZoneInfo("Asia/Shanghai")
DOC_CLOCK = datetime(2025, 9, 15, 10, 30, tzinfo=SH)   # "as of 2025-09-15 10:30:00, Asia/Shanghai"
DOC_USER = {"id": 7, "name": "王芳", "account": "wangfang"}   # "signed in as user 7"

EXAMPLE = re.compile(r"^- `(?P<formula>[^`]+)` → `(?P<result>[^`]+)`(?: with `(?P<inputs>\{.*\})`)?$")
TABLE_EXAMPLE = re.compile(r"^\|[^|]*\| `(?P<formula>TEXT\([^`]+\))` \| `(?P<result>[^`]*)` \|$")
HEADING = re.compile(r"^### (?P<name>[A-Z][A-Z0-9.]*)$")


def sections() -> dict[str, list[str]]:
    """Function name -> the lines of its section."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in TEXT.splitlines():
        heading = HEADING.match(line)
        if heading:
            current = found.setdefault(heading.group("name"), [])
        elif line.startswith("## "):
            current = None
        elif current is not None:
            current.append(line)
    return found


def examples() -> list[tuple[str, str, dict, str]]:
    """(formula, written result, inputs, where) for every example on the page."""
    found = []
    for number, line in enumerate(TEXT.splitlines(), start=1):
        match = EXAMPLE.match(line)
        if match:
            inputs = json.loads(match.group("inputs")) if match.group("inputs") else {}
            found.append((match.group("formula"), match.group("result"), inputs, f"line {number}"))
        table = TABLE_EXAMPLE.match(line)
        if table:
            found.append((table.group("formula"), json.dumps(table.group("result"), ensure_ascii=False),
                          {}, f"line {number}"))
    return found


def written_value(text: str):
    """The value a result is written as: 6.5, "text", TRUE, 2025-01-15, #N/A, [..], (empty)."""
    if text == "(empty)":
        return None
    if text in ("TRUE", "FALSE"):
        return text == "TRUE"
    if text in ERROR_CODES:
        return ErrorValue(text)
    if text.startswith('"'):
        return json.loads(text)
    if text.startswith("["):
        return from_json(json.loads(text))
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return date.fromisoformat(text)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", text):
        return datetime.fromisoformat(text).replace(tzinfo=SH)
    return Decimal(text)


def agrees(actual, expected) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual is expected
    if type(actual) is not type(expected):
        return False
    if isinstance(expected, list):
        return len(actual) == len(expected) and all(map(agrees, actual, expected))
    return actual == expected


EXAMPLES = examples()


@pytest.mark.parametrize("formula, result, inputs, where", EXAMPLES,
                         ids=[f"{where}: {formula}" for formula, _, _, where in EXAMPLES])
def test_example_gives_its_documented_result(formula, result, inputs, where):
    expected = written_value(result)
    values = {key: from_json(value) for key, value in inputs.items()}
    reference = evaluate(parse(formula), values, EvalContext(now=DOC_CLOCK, user=DOC_USER))
    compiled = compile_formula(parse(formula))(values, EvalContext(now=DOC_CLOCK, user=DOC_USER))
    assert agrees(reference, expected), f"{where}: {formula} gave {reference!r}, the doc says {result}"
    assert agrees(compiled, expected), f"{where}: {formula} compiled gave {compiled!r}, the doc says {result}"


def test_the_doc_states_the_clock_and_the_user_its_examples_use():
    assert "as of **2025-09-15 10:30:00, Asia/Shanghai**" in TEXT
    assert f"signed in as **user {DOC_USER['id']}**" in TEXT


def test_every_function_is_documented_and_nothing_else():
    documented = set(sections())
    assert sorted(set(FUNCTIONS) - documented) == [], "functions missing from docs/formulas.md"
    assert sorted(documented - set(FUNCTIONS)) == [], "docs/formulas.md documents unknown functions"


def test_each_section_has_its_signature_examples_and_chinese_text():
    for name, lines in sections().items():
        body = "\n".join(lines)
        spec = FUNCTIONS[name]
        assert f"`{spec.signature}`" in body, f"{name}: the section does not show {spec.signature}"
        formulas = [m.group("formula") for m in map(EXAMPLE.match, lines) if m]
        assert formulas, f"{name}: no example"
        assert spec.example in formulas, f"{name}: the spec's example {spec.example!r} is not in the doc"
        assert re.search(r"[\u4e00-\u9fff]", body), f"{name}: no Chinese text"


def test_every_spec_has_summaries_in_both_languages():
    for name, spec in FUNCTIONS.items():
        assert spec.summary and spec.summary_zh and spec.example and spec.family, name


def test_there_are_many_examples():
    assert len(EXAMPLES) >= 2 * len(FUNCTIONS) - 30

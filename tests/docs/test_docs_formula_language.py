"""docs/formula-language.md stays true: every example on the page is checked.

- `- `FORMULA` → `RESULT`` [with `{inputs}`]: both evaluators give RESULT (written as
  in docs/formulas.md: 6.5, "text", TRUE, 2025-01-15, [..], (empty), #N/A);
- `- `FORMULA` is refused: `MESSAGE``: parsing fails with a message starting so;
- `- `FORMULA` is flagged: `MESSAGE`` [with `{inputs}`]: the type checker, with the
  types of the inputs, reports a problem starting so;
- ```python blocks run without an error (their asserts hold).
The clock is the page's: 2025-09-15 10:30:00, Asia/Shanghai; the signed-in user is user 7.
"""
from __future__ import annotations

import json
import re
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from engine.formula import (
    EvalContext, FormulaSyntaxError, MappingEnv, check, compile_formula, evaluate, parse,
)
from engine.formula.fieldpath import inputs_from_json
from engine.formula.values import ERROR_CODES, ErrorValue
from tests.support.paths import DOCS

DOC = DOCS / "formula-language.md"
LINES = DOC.read_text(encoding="utf-8").splitlines()
SH = ZoneInfo("Asia/Shanghai")
CLOCK = datetime(2025, 9, 15, 10, 30, tzinfo=SH)
USER = {"id": 7}
INPUTS = r"(?: with `(?P<inputs>\{.*\})`)?$"
VALUE = re.compile(r"^- `(?P<formula>[^`]+)` → `(?P<result>[^`]+)`" + INPUTS)
REFUSED = re.compile(r"^- `(?P<formula>[^`]+)` is refused: `(?P<message>[^`]+)`$")
FLAGGED = re.compile(r"^- `(?P<formula>[^`]+)` is flagged: `(?P<message>[^`]+)`" + INPUTS)


def examples(pattern):
    found = [(number, match) for number, line in enumerate(LINES, start=1)
             if (match := pattern.match(line))]
    return [pytest.param(match, id=f"line {number}") for number, match in found]


def written_value(text: str):
    if text == "(empty)":
        return None
    if text in ("TRUE", "FALSE"):
        return text == "TRUE"
    if text in ERROR_CODES:
        return ErrorValue(text)
    if text.startswith('"'):
        return json.loads(text)
    if text.startswith("["):      # ["a", 1, TRUE]: JSON, with the booleans as written
        items = json.loads(re.sub(r"\b(TRUE|FALSE)\b", lambda m: m.group().lower(), text))
        return [item if isinstance(item, (str, bool)) else Decimal(str(item)) for item in items]
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return date.fromisoformat(text)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", text):
        return datetime.fromisoformat(text).replace(tzinfo=SH)
    return Decimal(text)


def inputs_of(match) -> dict:
    return inputs_from_json(json.loads(match.group("inputs"))) if match.group("inputs") else {}


@pytest.mark.parametrize("match", examples(VALUE))
def test_value_examples(match):
    formula = parse(match.group("formula"))
    expected = written_value(match.group("result"))
    inputs = inputs_of(match)
    for value in (evaluate(formula, inputs, EvalContext(now=CLOCK, user=USER)),
                  compile_formula(formula)(inputs, EvalContext(now=CLOCK, user=USER))):
        assert value == expected and type(value) is type(expected), value


@pytest.mark.parametrize("match", examples(REFUSED))
def test_refused_examples(match):
    with pytest.raises(FormulaSyntaxError) as error:
        parse(match.group("formula"))
    assert str(error.value).startswith(match.group("message"))


@pytest.mark.parametrize("match", examples(FLAGGED))
def test_flagged_examples(match):
    env = MappingEnv.from_values(inputs_of(match))
    messages = [p.message for p in check(parse(match.group("formula")), env).problems]
    assert any(m.startswith(match.group("message")) for m in messages), messages


PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.M | re.S)


def test_python_examples_run():
    blocks = PYTHON_BLOCK.findall("\n".join(LINES) + "\n")
    assert blocks
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), {})   # noqa: S102  (the page's own example)


def test_the_page_has_examples_of_every_kind():
    assert len(examples(VALUE)) >= 60
    assert len(examples(REFUSED)) >= 10 and len(examples(FLAGGED)) >= 5


def test_written_values():
    assert written_value('[1, "a", TRUE]') == [Decimal(1), "a", True]
    assert written_value('"say \\"hi\\""') == 'say "hi"'
    assert written_value("2025-09-15 10:30:00") == CLOCK

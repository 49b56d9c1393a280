"""Criteria strings of the *IF functions, as Excel reads them."""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from engine.formula import EvalContext, evaluate, parse
from engine.formula.criteria import WildcardPattern, matcher, parse_criterion
from engine.formula.values import DIV0, NA, VALUE

SH = ZoneInfo("Asia/Shanghai")
CELLS = [D(5), D(10), D("10.0"), "10", D(-3), "won", "WON", "lost", "", None, True, False,
         "张三", "张伟", "李四", "a*b", "a?b", "axb", date(2025, 1, 15), NA]


def matching(criterion):
    test = matcher(criterion)
    return [cell for cell in CELLS if test(cell)]


@pytest.mark.parametrize("criterion, expected", [
    ("won", ["won", "WON"]),
    ("=won", ["won", "WON"]),
    ("<>lost", [c for c in CELLS if c != "lost"]),
    (">=10", [D(10), D("10.0"), date(2025, 1, 15)]),        # a date is its serial, as in Excel
    (">5", [D(10), D("10.0"), date(2025, 1, 15)]),
    ("<5", [D(-3)]),
    ("<=5", [D(5), D(-3)]),
    ("10", [D(10), D("10.0"), "10"]),                        # "=10" matches text "10" too
    (D(10), [D(10), D("10.0"), "10"]),
    ("1,0", []),                                             # not a number: plain text
    ("", ["", None]),
    ("=", ["", None]),
    ("<>", [c for c in CELLS if c not in ("", None)]),
    ("张*", ["张三", "张伟"]),
    ("?四", ["李四"]),
    ("a?b", ["a*b", "a?b", "axb"]),
    ("a~*b", ["a*b"]),
    ("a~?b", ["a?b"]),
    ("*", [c for c in CELLS if isinstance(c, str)]),
    ("<>张*", [c for c in CELLS if not (isinstance(c, str) and c.startswith("张"))]),
    (">m", ["won", "WON", "张三", "张伟", "李四"]),        # text against text only, ignoring case
    ("<b", ["10", "", "a*b", "a?b", "axb"]),                # text cells only, "" included
    (True, [True]), ("TRUE", [True]), ("false", [False]),
    ("#N/A", [NA]),
    (None, ["", None]),
    ("2025-01-15", [date(2025, 1, 15)]),
    (">2025-01-01", [date(2025, 1, 15)]),
    (date(2025, 1, 15), [date(2025, 1, 15)]),
    ("50%", []),
    ("<1,000", [D(5), D(10), D("10.0"), D(-3)]),
])
def test_criteria_match_as_excel(criterion, expected):
    assert matching(criterion) == expected


def test_wildcards_are_whole_matches_and_unicode_aware():
    assert matcher("*客户*")("老客户转介绍")
    assert not matcher("客户")("老客户")
    assert matcher("??")("中文") and not matcher("??")("中文字")
    assert matcher("a.b")("A.B") and not matcher("a.b")("axb")   # regex characters are literal


def test_percent_and_money_operands_read_as_numbers():
    assert matcher(">=50%")(D("0.5"))
    assert matcher("¥100")(D(100))


def test_datetime_cells_compare_by_moment():
    morning = datetime(2025, 1, 15, 9, tzinfo=SH)
    assert matcher(">2025-01-15")(morning)
    assert not matcher("=2025-01-15")(morning)


def test_parsed_criterion_is_a_walkable_structure():
    parsed = parse_criterion(">=10")
    assert (parsed.op, parsed.kind, parsed.operand) == (">=", "number", D(10))
    assert parse_criterion("<>lost").kind == "text"
    assert parse_criterion("张*").kind == "pattern"
    assert parse_criterion("张*").operand.pattern_text == "张*"


def test_bad_criteria():
    assert parse_criterion(DIV0) == DIV0
    assert parse_criterion([1, 2]) == VALUE
    assert matcher(NA) == NA


# ---- wildcards in linear time ----------------------------------------------------------

def _backtracking_regex(pattern: str) -> re.Pattern:
    """The obvious translation (* -> .*): right, but exponential on some patterns; the
    reference for short texts."""
    parts, position = [], 0
    for match in re.finditer(r"~[*?~]|[*?]", pattern):
        parts.append(re.escape(pattern[position:match.start()]))
        token = match.group()
        parts.append(".*" if token == "*" else "." if token == "?" else re.escape(token[1]))
        position = match.end()
    parts.append(re.escape(pattern[position:]))
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


_PIECES = st.text(alphabet="aAb张*?~.", max_size=8)


@settings(max_examples=400, deadline=None)
@given(pattern=_PIECES, text=st.text(alphabet="aAb张*?~.", max_size=10), begin=st.integers(0, 3))
def test_wildcard_matching_agrees_with_a_plain_regex(pattern, text, begin):
    wildcard, regex = WildcardPattern(pattern), _backtracking_regex(pattern)
    assert wildcard.fullmatch(text) == (regex.fullmatch(text) is not None)
    begin = min(begin, len(text))     # SEARCH never starts past the end
    found = regex.search(text, begin)
    assert wildcard.search(text, begin) == (None if found is None else found.start())


def test_many_stars_over_a_long_text_answer_at_once():
    """A regex of `.*` runs backtracks for hours here (a formula typed by a user must never
    hang a worker): COUNTIF criteria and SEARCH match in linear passes."""
    long_text = "a" * 100_000
    criteria = '"*a*a*a*a*a*a*a*a*b"'
    assert evaluate(parse(f"COUNTIF(xs, {criteria})"), {"xs": [long_text]}, EvalContext()) == 0
    assert evaluate(parse(f"COUNTIF(xs, {criteria})"), {"xs": [long_text + "b"]}, EvalContext()) == 1
    assert evaluate(parse('COUNTIF(xs, REPT("*", 250) & "b")'), {"xs": [long_text]}, EvalContext()) == 0
    assert evaluate(parse('SEARCH("*a*a*a*a*b", x)'), {"x": long_text}, EvalContext()) == VALUE
    assert evaluate(parse('SEARCH("a?*a*b", x)'), {"x": "xx" + long_text + "b"}, EvalContext()) == D(3)
    assert evaluate(parse('SEARCH(REPT("?*", 120) & "b", x)'), {"x": long_text}, EvalContext()) == VALUE


def test_patterns_longer_than_excel_allows_are_value_errors():
    """255 characters, as in Excel; the limit also bounds a match to (text x 255) steps."""
    ctx = EvalContext()
    cells = {"xs": ["a" * 300, "b"]}
    assert evaluate(parse('COUNTIF(xs, REPT("a", 254) & "*")'), cells, ctx) == 1
    assert evaluate(parse('COUNTIF(xs, REPT("a", 255) & "*")'), cells, ctx) == VALUE
    assert evaluate(parse('COUNTIF(xs, "<>" & REPT("a", 255) & "*")'), cells, ctx) == VALUE
    assert evaluate(parse('COUNTIF(xs, REPT("a", 300))'), cells, ctx) == 1      # no wildcard: plain text
    assert evaluate(parse('SEARCH(REPT("a", 255), x)'), {"x": "b" + "a" * 300}, ctx) == D(2)
    assert evaluate(parse('SEARCH(REPT("a", 256), x)'), {"x": "b" + "a" * 300}, ctx) == VALUE
    huge = {"x": "a" * 999_000}
    assert evaluate(parse('SEARCH(REPT("?", 254) & "b", x)'), huge, ctx) == VALUE
    assert evaluate(parse('SEARCH(REPT("a", 500000) & "b", x)'), huge, ctx) == VALUE

"""Criteria of SUMIF, COUNTIF, AVERAGEIF, MAXIFS... as Excel reads them.

A criterion is a value or a text with an optional leading operator:

    "won"   "=won"      equal, ignoring case; * ? wildcards, ~ escapes them ("~*")
    "<>lost"            not equal (an empty cell is not "lost", so it matches)
    ">=10"  "<5"        ordered: numbers against numbers (and dates), text against text
    ""  "="             an empty cell (or empty text);   "<>" a non-empty cell
    10  TRUE  a date    equal to that value

The operand after the operator is read as a number ("1,000", "50%" too), then TRUE /
FALSE, then a date ("2025-01-15"), else it is text. A number criterion also matches text
that reads as that number, as in Excel. Errors in the cells never match, except a
criterion naming that error ("#N/A").

`parse_criterion` returns a `Criterion` (operator, kind, operand: a structure a SQL
translator can walk) whose `predicate()` tests many cells fast.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Callable

from engine.formula.values import (
    ERROR_CODES, VALUE, ErrorValue, date_to_serial, parse_date_text, parse_formatted_number,
    parse_number_text,
)

OPERATORS = ("<=", ">=", "<>", "<", ">", "=")
_ORDER_TESTS: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}
_WILDCARD = re.compile(r"~[*?~]|[*?]")
# Excel's limit on criteria and SEARCH's find_text; it also bounds a wildcard match to
# (text length x 255) steps, which keeps SEARCH of a huge pattern in a huge text short.
MAX_PATTERN_LENGTH = 255


@dataclass(frozen=True)
class Criterion:
    """One parsed criterion: `op` is one of OPERATORS; `kind` is what the operand is:
    "empty", "number", "boolean", "date", "text", "pattern" (text with wildcards, operand
    is a WildcardPattern) or "error" (operand is the error code)."""

    op: str
    kind: str
    operand: Any

    def predicate(self) -> Callable[[Any], bool]:
        """A function cell -> bool for this criterion."""
        if self.op == "<>":
            equal = self._equality()
            return lambda cell: not equal(cell)
        if self.op == "=":
            return self._equality()
        return self._ordering()

    def _equality(self) -> Callable[[Any], bool]:
        kind, operand = self.kind, self.operand
        if kind == "empty":
            return lambda cell: cell is None or cell == ""
        if kind == "number":
            return lambda cell: _as_number(cell, text_too=True) == operand
        if kind == "date":
            serial = date_to_serial(operand)
            return lambda cell: _as_number(cell) == serial
        if kind == "boolean":
            return lambda cell: type(cell) is bool and cell is operand
        if kind == "error":
            return lambda cell: type(cell) is ErrorValue and cell.code == operand
        if kind == "pattern":
            match = operand.fullmatch
            return lambda cell: type(cell) is str and match(cell)
        folded = operand.casefold()
        return lambda cell: type(cell) is str and cell.casefold() == folded

    def _ordering(self) -> Callable[[Any], bool]:
        test = _ORDER_TESTS[self.op]
        kind, operand = self.kind, self.operand
        if kind in ("number", "date"):
            bound = date_to_serial(operand) if kind == "date" else operand

            def ordered_number(cell: Any) -> bool:
                value = _as_number(cell)
                return value is not None and test(value, bound)
            return ordered_number
        if kind == "boolean":
            return lambda cell: type(cell) is bool and test(cell, operand)
        if kind in ("text", "pattern"):
            folded = self._text_operand().casefold()
            return lambda cell: type(cell) is str and test(cell.casefold(), folded)
        return lambda cell: False   # "<" an empty or an error matches nothing, as in Excel

    def _text_operand(self) -> str:
        return self.operand.pattern_text if self.kind == "pattern" else self.operand


class WildcardPattern:
    """A wildcard pattern (Excel's * ? and ~ escapes) that remembers the text it came from.

    The pattern is cut at its stars into segments of fixed length (characters and ?); a
    text is matched by finding the segments left to right, each at its leftmost place
    after the one before (the first at the start, the last at the end for a whole match).
    Leftmost is always right for * ? patterns, so nothing is tried twice and a match costs
    at most (text length x pattern length) steps, where a regex of `.*` runs (`*a*a*a*b`
    against a long text of "a"s) would backtrack for hours.
    """

    __slots__ = ("pattern_text", "_segments", "_last_length")

    def __init__(self, text: str):
        self.pattern_text = text
        segments = _segments(text)
        self._segments = [re.compile(regex, re.IGNORECASE | re.DOTALL) for regex, _ in segments]
        self._last_length = segments[-1][1]

    def fullmatch(self, text: str) -> bool:
        """Whether the whole text matches, ignoring case."""
        segments = self._segments
        if len(segments) == 1:
            return segments[0].fullmatch(text) is not None
        found = segments[0].match(text)
        if found is None:
            return False
        end = len(text) - self._last_length     # where the last segment must start
        position = _chain(segments[1:-1], text, found.end(), end)
        return position is not None and position <= end and segments[-1].match(text, end) is not None

    def search(self, text: str, begin: int = 0) -> int | None:
        """Where the leftmost match at or after `begin` starts (for SEARCH), or None."""
        found = self._segments[0].search(text, begin)
        if found is None or _chain(self._segments[1:], text, found.end(), len(text)) is None:
            return None
        return found.start()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WildcardPattern) and other.pattern_text == self.pattern_text

    def __hash__(self) -> int:
        return hash(self.pattern_text)

    def __repr__(self) -> str:
        return f"<pattern {self.pattern_text!r}>"


def _segments(text: str) -> list[tuple[str, int]]:
    """(regex, length in characters) of the parts between the stars: characters match
    themselves, `?` any one; a pattern with n stars has n + 1 parts, some maybe empty."""
    segments: list[tuple[str, int]] = []
    regex, length, position = [], 0, 0
    for match in _WILDCARD.finditer(text):
        literal = text[position:match.start()]
        regex.append(re.escape(literal))
        length += len(literal)
        token = match.group()
        if token == "*":
            segments.append(("".join(regex), length))
            regex, length = [], 0
        else:
            regex.append("." if token == "?" else re.escape(token[1]))
            length += 1
        position = match.end()
    regex.append(re.escape(text[position:]))
    segments.append(("".join(regex), length + len(text) - position))
    return segments


def _chain(segments: list[re.Pattern], text: str, position: int, end: int) -> int | None:
    """Finds each segment at its leftmost place from `position`, ending by `end`; where
    the last one ends, or None when one is not there."""
    for segment in segments:
        found = segment.search(text, position, end)
        if found is None:
            return None
        position = found.end()
    return position


def _as_number(cell: Any, text_too: bool = False) -> Decimal | None:
    """A cell's number for matching: numbers and dates (as serials); text only for "="."""
    kind = type(cell)
    if kind is Decimal:
        return cell
    if kind is int or kind is float:
        return Decimal(repr(cell)) if kind is float else Decimal(cell)
    if kind is date or kind is datetime:
        return date_to_serial(cell)
    if text_too and kind is str:
        return parse_number_text(cell)
    return None


def parse_criterion(criterion: Any) -> Criterion | ErrorValue:
    """Read a criterion (text with an optional operator, or a plain value)."""
    kind = type(criterion)
    if kind is ErrorValue:
        return criterion
    if criterion is None:
        return Criterion("=", "empty", None)
    if kind is bool:
        return Criterion("=", "boolean", criterion)
    if kind is Decimal or kind is int or kind is float:
        return Criterion("=", "number", _as_number(criterion))
    if kind is date or kind is datetime:
        return Criterion("=", "date", criterion)
    if kind is not str:
        return VALUE   # an array is not one criterion
    op = next((symbol for symbol in OPERATORS if criterion.startswith(symbol)), None)
    operand = criterion[len(op):] if op else criterion
    if len(operand) > MAX_PATTERN_LENGTH and _WILDCARD.search(operand):
        return VALUE   # a wildcard pattern longer than Excel allows
    return Criterion(op or "=", *_read_operand(operand))


def _read_operand(text: str) -> tuple[str, Any]:
    if text == "":
        return "empty", None
    number = parse_formatted_number(text)
    if number is not None:
        return "number", number
    upper = text.upper()
    if upper in ("TRUE", "FALSE"):
        return "boolean", upper == "TRUE"
    if upper in ERROR_CODES:
        return "error", upper
    moment = parse_date_text(text)
    if moment is not None:
        return "date", moment
    if _WILDCARD.search(text):
        return "pattern", WildcardPattern(text)
    return "text", text


def matcher(criterion: Any) -> Callable[[Any], bool] | ErrorValue:
    """parse_criterion + predicate, the usual need of a *IF function."""
    parsed = parse_criterion(criterion)
    if type(parsed) is ErrorValue:
        return parsed
    return parsed.predicate()

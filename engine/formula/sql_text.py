"""Texts of formulas in SQL, with Python's meaning of case and spaces.

The formula language compares texts without regard to case by Python's `casefold`
(so "STRASSE" = "straße"), and UPPER/LOWER/TRIM are Python's `upper`, `lower` and a
strip of (full-width) spaces. The databases do otherwise:

- PostgreSQL's lower()/upper() follow the database's locale. With a UTF-8 glibc locale
  (C.UTF-8, en_US.UTF-8, zh_CN.UTF-8...) they agree with Python's lower()/upper() one
  character at a time, except for the characters whose Python result is several
  characters (ß -> SS, İ -> i̇) and the casefold-only foldings (ß -> ss, ς -> σ,
  Cherokee...). Those characters are few and rare: a regular expression spots them,
  and only the texts holding one take the slower exact path, character by character
  against a table computed here from Python's own Unicode data (`CharMap`).
  Known difference: Python's lower() turns a final capital sigma into ς; PostgreSQL
  (and so LOWER in a filter) gives σ. Comparisons are not affected (both fold to σ).
- SQLite's lower()/upper() change ASCII letters only: texts that are all ASCII use
  them, the others call Python itself (functions registered on each connection,
  sql_sqlite.py).

Text ordering is by code point in both (PostgreSQL: COLLATE "C"), as Python orders.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from engine.formula.sql_values import pick

SPACES = " \u3000"        # what TRIM strips (functions/text.py `_trim`)
# Python's lower() of İ is two characters (i and a combining dot); PostgreSQL's is one.
DOTTED_CAPITAL_I = ("\u0130", "i\u0307")
_SURROGATES = range(0xD800, 0xE000)


def _characters():
    return (chr(code) for code in range(0x110000) if code not in _SURROGATES)


def _char_class(chars) -> str:
    """A regular-expression bracket of `chars` (escaped for PostgreSQL's ARE)."""
    return "[" + "".join("\\" + c if c in "\\]^-[" else c for c in sorted(chars)) + "]"


@lru_cache(maxsize=1)
def ascii_folds() -> frozenset[str]:
    """What characters outside ASCII casefold to in ASCII ("k" for the Kelvin sign, "ss"
    for ß, "fi" for the ligature...): a folded text holding none of these cannot have
    come from such a character."""
    return frozenset(c.casefold() for c in _characters() if not c.isascii() and c.casefold().isascii())


def _plain_fold_suffices(folded: str) -> bool:
    """Whether `text.casefold() == folded` is decided by ASCII letters alone: `folded` is
    ASCII and holds nothing a non-ASCII character folds to."""
    return folded.isascii() and not any(piece in folded for piece in ascii_folds())


@lru_cache(maxsize=1)
def casefold_map() -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """(guard class, characters, their casefold) for the characters whose casefold is not
    what a per-character lower() gives (İ, whose PostgreSQL lower() differs, included)."""
    special = {c: c.casefold() for c in _characters() if c.casefold() != c.lower()}
    special[DOTTED_CAPITAL_I[0]] = DOTTED_CAPITAL_I[1]
    return _char_class(special), tuple(special), tuple(special.values())


@lru_cache(maxsize=1)
def upper_map() -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """(guard class, characters, their upper()) for the characters whose Python upper() is
    several characters, which PostgreSQL's upper() leaves alone."""
    special = {c: c.upper() for c in _characters() if len(c.upper()) > 1}
    return _char_class(special), tuple(special), tuple(special.values())


class CharMap(ColumnElement):
    """PostgreSQL: `value` character by character, each one found in `source` replaced by
    its `target`, the others passed through `otherwise` (lower or upper). The table
    travels as two text parameters: the source characters, and the targets separated by
    U+001F (which no target holds), split into arrays by PostgreSQL. Its parts are its
    SQLAlchemy cache key, so a statement holding it is compiled once."""

    inherit_cache = True
    type = sa.Text()
    _traverse_internals = [("value", InternalTraversal.dp_clauseelement),
                           ("source", InternalTraversal.dp_clauseelement),
                           ("target", InternalTraversal.dp_clauseelement),
                           ("otherwise", InternalTraversal.dp_string)]

    def __init__(self, value: Any, source: tuple[str, ...], target: tuple[str, ...], otherwise: str):
        self.value = value
        self.source = sa.literal("".join(source), sa.Text())
        self.target = sa.literal(_SEPARATOR.join(target), sa.Text())
        self.otherwise = {"lower": "lower", "upper": "upper"}[otherwise]

    def get_children(self, **kw):
        return (self.value, self.source, self.target)


_SEPARATOR = "\x1f"


@compiles(CharMap, "postgresql")
def _char_map_sql(element: CharMap, compiler, **kw) -> str:
    value = compiler.process(element.value, **kw)
    source = compiler.process(element.source, **kw)
    target = compiler.process(element.target, **kw)
    return (f"coalesce((SELECT string_agg(coalesce(fw_m.u, {element.otherwise}(fw_c.ch)), '' "
            f"ORDER BY fw_c.n) FROM unnest(string_to_array({value}, NULL)) WITH ORDINALITY "
            f"AS fw_c(ch, n) LEFT JOIN unnest(string_to_array({source}, NULL), "
            f"string_to_array({target}, chr(31))) AS fw_m(c, u) ON fw_m.c = fw_c.ch), '')")


class PostgresText:
    def __init__(self, literals):
        self.lit = literals

    def fold(self, value: Any) -> Any:
        guard, source, target = casefold_map()
        exact = CharMap(value, source, target, "lower")
        return pick(value.regexp_match(self.lit.text(guard)), exact, sa.func.lower(value))

    def equals_folded(self, value: Any, folded: str) -> Any:
        """casefold(value) = `folded` (already folded). For the usual ASCII constant,
        Python's lower() decides (İ lowers to i and a combining dot, never to ASCII).
        One predicate, as a hand-written lower(x) = 'vip' is, so that the planner
        estimates both alike (an extra test for İ made it prefer a full scan)."""
        if not _plain_fold_suffices(folded):
            return sa.collate(self.fold(value), "C") == self.lit.text(folded)
        lowered = self.lower(value) if "i" in folded else sa.func.lower(value)
        return sa.collate(lowered, "C") == self.lit.text(folded)

    def upper(self, value: Any) -> Any:
        guard, source, target = upper_map()
        exact = CharMap(value, source, target, "upper")
        return pick(value.regexp_match(self.lit.text(guard)), exact, sa.func.upper(value))

    def lower(self, value: Any) -> Any:
        dotted, its_lower = DOTTED_CAPITAL_I
        return sa.func.lower(sa.func.replace(value, self.lit.text(dotted), self.lit.text(its_lower)))

    def trim(self, value: Any) -> Any:
        stripped = sa.func.btrim(value, self.lit.text(SPACES))
        return sa.func.regexp_replace(stripped, self.lit.text("  +"), self.lit.text(" "), "g")

    def length(self, value: Any) -> Any:
        return sa.func.char_length(value)

    def left(self, value: Any, count: Any) -> Any:
        return sa.func.left(value, self._int4(count))

    def right(self, value: Any, count: Any) -> Any:
        return sa.func.right(value, self._int4(count))

    def mid(self, value: Any, start: Any, count: Any) -> Any:
        return sa.func.substr(value, self._int4(start), self._int4(count))

    def position(self, needle: Any, haystack: Any) -> Any:
        """1-based position of `needle` in `haystack`, 0 when absent (case matters)."""
        return sa.func.strpos(haystack, needle)

    def _int4(self, count: Any) -> Any:
        # Counts reach 1E+15 (values.to_int); texts hold at most a million characters.
        return sa.cast(sa.func.least(count, 2_000_000_000), sa.Integer)

    def same(self, a: Any, b: Any) -> Any:
        """Equal texts, case and all (EXACT)."""
        return sa.collate(a, "C") == b

    def ordered(self, op: str, a: Any, b: Any) -> Any:
        return _ORDER[op](sa.collate(a, "C"), b)


class SqliteText:
    def __init__(self, literals):
        self.lit = literals

    @staticmethod
    def _ascii(value: Any) -> Any:
        # one byte per character: ASCII (texts never hold NUL: fields refuse it)
        return sa.func.length(sa.cast(value, sa.LargeBinary)) == sa.func.length(value)

    def fold(self, value: Any) -> Any:
        return pick(self._ascii(value), sa.func.lower(value), sa.func.fw_casefold(value))

    def equals_folded(self, value: Any, folded: str) -> Any:
        """casefold(value) = `folded`: SQLite's lower() changes ASCII letters only, so for
        the usual ASCII constant a text outside ASCII can never be equal."""
        if not _plain_fold_suffices(folded):
            return self.fold(value) == self.lit.text(folded)
        return sa.func.lower(value) == self.lit.text(folded)

    def upper(self, value: Any) -> Any:
        return pick(self._ascii(value), sa.func.upper(value), sa.func.fw_upper(value))

    def lower(self, value: Any) -> Any:
        return pick(self._ascii(value), sa.func.lower(value), sa.func.fw_lower(value))

    def trim(self, value: Any) -> Any:
        inner_runs = sa.func.instr(value, self.lit.text("  ")) > 0
        return pick(inner_runs, sa.func.fw_trim(value), sa.func.trim(value, self.lit.text(SPACES)))

    def length(self, value: Any) -> Any:
        return sa.func.length(value)

    def left(self, value: Any, count: Any) -> Any:
        return sa.func.substr(value, 1, count)

    def right(self, value: Any, count: Any) -> Any:
        return pick(count == 0, self.lit.text(""), sa.func.substr(value, -count))

    def mid(self, value: Any, start: Any, count: Any) -> Any:
        return sa.func.substr(value, start, count)

    def position(self, needle: Any, haystack: Any) -> Any:
        return sa.func.instr(haystack, needle)

    def same(self, a: Any, b: Any) -> Any:
        return a == b

    def ordered(self, op: str, a: Any, b: Any) -> Any:
        return _ORDER[op](a, b)


_ORDER = {
    "=": lambda x, y: x == y, "<>": lambda x, y: x != y, "<": lambda x, y: x < y,
    "<=": lambda x, y: x <= y, ">": lambda x, y: x > y, ">=": lambda x, y: x >= y,
}

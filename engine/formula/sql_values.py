"""What the SQL back end knows about one translated node: `SqlValue`.

A formula node becomes two SQL expressions, its value and its error:

    value   the formula value; SQL NULL is a blank (an empty field, an IF without its
            branch). Under an error the value means nothing (but never makes the
            database raise: divisions, dates and casts are guarded).
    error   the error code as text ('#DIV/0!'), SQL NULL when there is none; `None`
            when the node can never be an error, so most formulas carry no error SQL.

Errors combine as in the reference evaluator: the leftmost error of the operands
wins, then the node's own (`first_error`).

Numbers carry a static shape: `scale` (decimal places; on SQLite the value is an
integer scaled by 10**scale, see sql_numbers.py), `int_digits` (|value| < 10**int_digits)
and `digits` (significant digits at most). `kind` is the formula type: number, text,
boolean, date or datetime, and "blank" and "error" for constants that take the kind
of whatever they meet.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Sequence

import sqlalchemy as sa

KINDS = ("number", "text", "boolean", "date", "datetime")
CONSTANT_ONLY_KINDS = ("blank", "error")
MAX_TEXT = 1_000_000            # the formula language's text limit (values.Limits)
NOT_CONSTANT = object()


class NotTranslatable(Exception):
    """A formula (or a part of it) that SQL cannot compute with the reference's meaning.

    `reason` says what, in words a user reads ("uses SUMIF, which runs only outside the
    database"); `start` is the offset in the formula text of the part concerned."""

    def __init__(self, reason: str, start: int = 0):
        super().__init__(reason)
        self.reason = reason
        self.start = start


@dataclass(frozen=True)
class SqlValue:
    kind: str
    value: Any                       # a SQLAlchemy expression
    error: Any = None                # a SQLAlchemy expression of text, or None: never an error
    nullable: bool = True            # the value may be blank (NULL) when there is no error
    # numbers
    scale: int | None = 0            # decimal places; None: not known (a quotient on PostgreSQL)
    int_digits: int = 0              # |value| < 10 ** int_digits
    digits: int = 0                  # significant digits, at most
    poison: bool = False             # SQLite: may hold a REAL standing for an inexact value
    maybe_date: bool = False         # a date moved by days (its Excel serial number)
    leaf: bool = False               # a column or a constant: cheap to write twice
    # PostgreSQL: the value before its rounding to 34 digits, and 10**unrounded_below,
    # under which both are the same number; at or beyond it both are (with the same
    # sign), so a comparison with a constant closer to 0 may read the cheaper one
    unrounded: Any = None
    unrounded_below: int = 0
    # texts
    max_len: int = MAX_TEXT          # characters, at most
    constant: Any = NOT_CONSTANT     # the formula value, when known at translation time

    @property
    def is_constant(self) -> bool:
        return self.constant is not NOT_CONSTANT

    def but(self, **changes: Any) -> "SqlValue":
        if "value" in changes and "unrounded" not in changes:
            changes["unrounded"] = None      # it described the old value
        return replace(self, **changes)


def first_error(*values: SqlValue | Any) -> Any:
    """The leftmost error among values (SqlValues or error expressions), or None."""
    errors = []
    for item in values:
        error = item.error if isinstance(item, SqlValue) else item
        if error is None:
            continue
        errors.append(error)
    if not errors:
        return None
    return errors[0] if len(errors) == 1 else sa.func.coalesce(*errors)


def error_when(condition: Any, code: Any) -> Any:
    """The error `code` (a text expression) where `condition` holds, else NULL."""
    return sa.case((condition, code), else_=sa.null())


def pick(condition: Any, when_true: Any, when_false: Any) -> Any:
    return sa.case((condition, when_true), else_=when_false)


def let(values: Sequence[Any], build: Callable[..., Any]) -> Any:
    """`build(*names)` over `values` that are written once: a correlated scalar subquery
    (SELECT build(x0, x1...) FROM (SELECT v0 AS x0, v1 AS x1 OFFSET 0)). For an
    operation that uses its operands many times, so nesting it keeps the SQL linear in
    size; OFFSET 0 keeps the database from inlining the operands back."""
    inner = sa.select(*[value.label(f"x{i}") for i, value in enumerate(values)]) \
        .correlate_except(None).offset(0).subquery()
    return sa.select(build(*inner.c)).scalar_subquery()


def joined(*parts: Any) -> Any:
    """Texts joined with SQL's || (never +, which adds numbers when a type is unknown)."""
    result = parts[0]
    for part in parts[1:]:
        result = result.op("||", return_type=sa.Text())(part)
    return result

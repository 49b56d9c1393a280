"""Matching a column against a set of record ids.

A few ids become `id IN (?, ?, ?)`. Thousands (the parents of 10,000 changed payments)
are bound as ONE parameter, a JSON text unpacked by `json_each` on SQLite or an array
compared with `= ANY` on PostgreSQL: the statement stays small, is prepared once, and
no time goes into rendering and binding thousands of placeholders.
"""
from __future__ import annotations

import json
from typing import Iterable

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from engine.dialect import Dialect

FEW = 100


def among(column: sa.ColumnElement, ids: Iterable[int], dialect: Dialect) -> sa.ColumnElement:
    """`column` is one of `ids` (plain integers)."""
    ids = sorted(set(ids))
    if len(ids) <= FEW:
        return column.in_(ids)
    if dialect.array_parameters:
        array = sa.cast(sa.bindparam(None, ids, type_=postgresql.ARRAY(sa.BigInteger), unique=True),
                        postgresql.ARRAY(sa.BigInteger))
        return column == sa.any_(array)
    unpacked = sa.select(sa.literal_column("value")).select_from(
        sa.func.json_each(sa.bindparam(None, json.dumps(ids), type_=sa.Text, unique=True)))
    return column.in_(unpacked.scalar_subquery())

"""SQL for fields that store a JSON array (multi-select options, members, files):
"contains any of", "contains all of" and "is empty", spelled per database with
bound parameters (SQLite: json_each; PostgreSQL: jsonb operators)."""
from __future__ import annotations

import json
from typing import Any, Iterable

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement


class JsonArrayMatch(ColumnElement):
    """`column` (a JSON array) contains any / all of `values`."""

    inherit_cache = False
    type = sa.Boolean()

    def __init__(self, column, values: Iterable[Any], mode: str):
        self.column = column
        self.values = list(values)
        self.mode = mode  # "any" or "all"


class JsonArrayEmpty(ColumnElement):
    inherit_cache = False
    type = sa.Boolean()

    def __init__(self, column):
        self.column = column


@compiles(JsonArrayMatch, "sqlite")
def _match_sqlite(element, compiler, **kw):
    column = compiler.process(element.column, **kw)
    params = ", ".join(compiler.process(sa.bindparam(None, v, unique=True), **kw) for v in element.values)
    if element.mode == "any":
        return f"EXISTS (SELECT 1 FROM json_each({column}) WHERE json_each.value IN ({params}))"
    return (f"(SELECT count(DISTINCT json_each.value) FROM json_each({column}) "
            f"WHERE json_each.value IN ({params})) = {len(set(element.values))}")


@compiles(JsonArrayMatch, "postgresql")
def _match_pg(element, compiler, **kw):
    column = compiler.process(element.column, **kw)
    if element.mode == "any":
        parts = [f"{column} @> CAST({compiler.process(sa.bindparam(None, json.dumps([v]), unique=True), **kw)} AS JSONB)"
                 for v in element.values]
        return "(" + " OR ".join(parts) + ")" if parts else "false"
    whole = compiler.process(sa.bindparam(None, json.dumps(element.values), unique=True), **kw)
    return f"{column} @> CAST({whole} AS JSONB)"


@compiles(JsonArrayEmpty, "sqlite")
def _empty_sqlite(element, compiler, **kw):
    column = compiler.process(element.column, **kw)
    return f"({column} IS NULL OR json_array_length({column}) = 0)"


@compiles(JsonArrayEmpty, "postgresql")
def _empty_pg(element, compiler, **kw):
    return f"({_pg_length(compiler.process(element.column, **kw))} = 0)"


def _pg_length(column: str) -> str:
    """Array length, 0 for SQL NULL and for a stored JSON null (older rows hold those),
    where jsonb_array_length itself would fail."""
    return f"COALESCE(jsonb_array_length(CASE WHEN jsonb_typeof({column}) = 'array' THEN {column} END), 0)"


def array_filter(column, op: str, values: list[Any]) -> sa.ColumnElement:
    """The operators of a JSON-array field: contains/in (any of), eq (exactly these,
    in any order), ne/not_in (none of), empty, not_empty."""
    if op == "empty":
        return JsonArrayEmpty(column)
    if op == "not_empty":
        return sa.not_(JsonArrayEmpty(column))
    if not values:
        return sa.true() if op in ("ne", "not_in") else sa.false()
    if op in ("contains", "in"):
        return JsonArrayMatch(column, values, "any")
    if op in ("ne", "not_in"):
        return sa.not_(sa.and_(column.is_not(None), JsonArrayMatch(column, values, "any")))
    if op == "eq":
        return sa.and_(column.is_not(None), JsonArrayMatch(column, values, "all"),
                       sa.func.coalesce(_length(column), 0) == len(set(values)))
    raise ValueError(op)


class _JsonLength(ColumnElement):
    inherit_cache = False
    type = sa.Integer()

    def __init__(self, column):
        self.column = column


@compiles(_JsonLength, "sqlite")
def _len_sqlite(element, compiler, **kw):
    return f"json_array_length({compiler.process(element.column, **kw)})"


@compiles(_JsonLength, "postgresql")
def _len_pg(element, compiler, **kw):
    return _pg_length(compiler.process(element.column, **kw))


def _length(column):
    return _JsonLength(column)

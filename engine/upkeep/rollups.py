"""The SQL that keeps rollups current: one statement per rollup (or per group of
rollups over the same relation) for a whole batch of parent records:

    UPDATE contracts SET paid = (SELECT COALESCE(SUM(p.amount), 0) FROM payments p
                                 WHERE p.contract = contracts.id AND p.deleted_at IS NULL
                                   AND <filter>)
    WHERE contracts.id IN (...)

Numbers are exact on both databases. PostgreSQL adds NUMERIC values and rounds on
assignment (half away from zero, as ROUND does). SQLite stores a number as an integer
scaled by its decimal places (engine/storage/types.py), so sums are exact integer
sums, and a change of decimal places or an average is rounded in integer arithmetic
(half away from zero too): no floating point anywhere.
"""
from __future__ import annotations

import sqlalchemy as sa

from engine.definition.model import AppDef
from engine.dialect import Dialect
from engine.fields.base import ValueContext
from engine.query.filters import source_filter
from engine.query.tables import AppTables


def _int(value: int) -> sa.ColumnElement:
    return sa.literal(value, sa.BigInteger)


def _rounded_division(numerator: sa.ColumnElement, denominator: sa.ColumnElement) -> sa.ColumnElement:
    """numerator / denominator (> 0) in integers, rounded half away from zero."""
    twice = numerator * _int(2)
    return sa.case((numerator >= 0, (twice + denominator) / (denominator * _int(2))),
                   else_=-((-twice + denominator) / (denominator * _int(2))))


def _rescaled(expression: sa.ColumnElement, scale: int, wanted: int) -> sa.ColumnElement:
    """A scaled SQLite integer with `scale` decimal places as one with `wanted` places."""
    if wanted >= scale:
        return expression * _int(10 ** (wanted - scale)) if wanted > scale else expression
    return _rounded_division(expression, _int(10 ** (scale - wanted)))


def aggregate(dialect: Dialect, rollup, column: sa.ColumnElement | None, id_column: sa.ColumnElement,
              source_scale: int) -> sa.ColumnElement:
    """The aggregate expression of one rollup over the matched source rows."""
    how, places = rollup.aggregate, rollup.precision or 0
    if how == "count":
        return sa.func.count(id_column)
    if how == "counta":
        return sa.func.count(column)
    numeric = rollup.result == "number"
    if not dialect.scaled_numbers or not numeric:
        if how == "sum":
            return sa.func.coalesce(sa.func.sum(column), 0)
        if how == "avg":
            return sa.func.round(sa.func.avg(column), places)
        return getattr(sa.func, how)(column)
    scaled = sa.type_coerce(column, sa.BigInteger)
    if how == "sum":
        return sa.func.coalesce(_rescaled(sa.func.sum(scaled), source_scale, places), _int(0))
    if how == "avg":
        total, count = sa.func.sum(scaled), sa.func.count(scaled)
        if places >= source_scale:
            return _rounded_division(total * _int(10 ** (places - source_scale)), count)
        return _rounded_division(total, count * _int(10 ** (source_scale - places)))
    return _rescaled(getattr(sa.func, how)(scaled), source_scale, places)


def column_scale(column: sa.Column) -> int:
    """Decimal places of a stored number column (0 for integer columns)."""
    return int(getattr(column.type, "scale", 0) or 0)


def rollup_values(app: AppDef, tables: AppTables, rollups: list, ctx: ValueContext,
                  dialect: Dialect) -> dict[str, sa.ColumnElement]:
    """{column: correlated scalar subquery} for rollups sharing one source and relation."""
    first = rollups[0]
    target = tables.form_table(first.form)
    source_form = app.require_form(first.source)
    source = tables.form_table(first.source).alias("rollup_source")
    if first.multiple:
        link = tables.link_table(first.source, first.via).alias("rollup_link")
        joined = source.join(link, link.c.source_id == source.c.id)
        match = link.c.target_id == target.c.id
    else:
        joined, match = source, source.c[first.via] == target.c.id
    values = {}
    for spec in rollups:
        ftype = tables.types.of(spec.fdef)
        column = None
        scale = 0
        if ftype.field_key is not None:
            source_type = tables.types.of(source_form.field(ftype.field_key))
            stored = source_type.columns()[0]
            column, scale = source.c[stored.name], column_scale(stored)
        conditions = [match, source.c.deleted_at.is_(None)]
        if spec.filter is not None:
            conditions.append(source_filter(source_form, spec.filter, tables, source, ctx))
        value = sa.select(aggregate(dialect, ftype, column, source.c.id, scale)) \
            .select_from(joined).where(*conditions).scalar_subquery()
        values[ftype.column_name] = value
    return values

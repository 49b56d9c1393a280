"""Column types that behave the same on SQLite and PostgreSQL.

- ExactDecimal: money and numbers are exact. PostgreSQL has NUMERIC; SQLite has
  no decimal type (REAL would round), so there the value is stored as a scaled
  integer, which is exact, sorts correctly and sums correctly.
- UTCDateTime: timezone-aware datetimes stored as UTC (timestamptz on PostgreSQL).
- JSONValue: JSONB on PostgreSQL, JSON text on SQLite; None is SQL NULL.
- RecordId: BIGINT on PostgreSQL, INTEGER on SQLite (so it is the rowid alias).
"""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal, ROUND_HALF_UP

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import TypeDecorator

from engine.dialect import Dialect

RecordId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# None is stored as SQL NULL, not as the JSON value null, so that "is empty" is IS NULL.
JSONValue = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


class ExactDecimal(TypeDecorator):
    impl = sa.Numeric
    cache_ok = True

    def __init__(self, scale: int = 2, digits: int = 38):
        super().__init__()
        self.scale = scale
        self.digits = digits

    def load_dialect_impl(self, dialect):
        if Dialect.of(dialect).scaled_numbers:
            return dialect.type_descriptor(sa.BigInteger())
        return dialect.type_descriptor(sa.Numeric(self.digits, self.scale, asdecimal=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = Decimal(value)
        quantum = Decimal(1).scaleb(-self.scale)
        value = value.quantize(quantum, rounding=ROUND_HALF_UP)
        if Dialect.of(dialect).scaled_numbers:
            return int(value.scaleb(self.scale))
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if Dialect.of(dialect).scaled_numbers:
            return Decimal(int(value)).scaleb(-self.scale)
        return Decimal(value)

    def coerce_compared_value(self, op, value):
        return self


class UTCDateTime(TypeDecorator):
    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a time zone first")
        value = value.astimezone(timezone.utc)
        return value if Dialect.of(dialect).zoned_datetimes else value.replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, str):  # raw SQLite text from a textual query
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)

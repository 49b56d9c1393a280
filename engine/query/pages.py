"""Sorting and keyset pagination.

A page is fetched with `WHERE <filter> AND <after cursor> ORDER BY <keys>, id
LIMIT n`: no OFFSET, so page 10,000 costs what page 1 costs. Empty values sort in each
database's native place (SQLite: as the smallest value; PostgreSQL: as the
largest), so that a plain index on the sort column serves the query on both.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Collection

import sqlalchemy as sa

from engine.definition.model import FormDef
from engine.errors import FormworkError
from engine.fields.registry import FieldTypes
from engine.query.filters import FilterError, resolve_field

MAX_SORT_KEYS = 5


@dataclass(frozen=True)
class SortKey:
    key: str
    expression: sa.ColumnElement
    descending: bool


def parse_sort(form: FormDef, table: sa.Table, spec: Any, types: FieldTypes,
               hidden: Collection[str] = ()) -> list[SortKey]:
    """Sort keys from [{"field": k, "dir": "asc"|"desc"}] or "-amount,name" text.
    The record id is always the last key, so the order is total. A "did you mean"
    offers no field of `hidden` (those the reader may not see)."""
    if spec in (None, "", []):
        spec = form.default_sort or [{"field": "id", "dir": "desc"}]
    if isinstance(spec, str):
        spec = [{"field": part.strip().lstrip("-+"), "dir": "desc" if part.strip().startswith("-") else "asc"}
                for part in spec.split(",") if part.strip()]
    if not isinstance(spec, list):
        raise FilterError("sort", "expected a list of {field, dir}")
    if len(spec) > MAX_SORT_KEYS:
        raise FilterError("sort", f"sort by at most {MAX_SORT_KEYS} fields")
    keys: list[SortKey] = []
    for i, item in enumerate(spec):
        path = f"sort[{i}]"
        if not isinstance(item, dict):
            raise FilterError(path, "expected {\"field\": key, \"dir\": \"asc\" or \"desc\"}")
        direction = item.get("dir", "asc")
        if direction not in ("asc", "desc"):
            raise FilterError(f"{path}.dir", f"dir must be 'asc' or 'desc', not {direction!r}")
        if item.get("field") == "id":
            keys.append(SortKey("id", table.c.id, direction == "desc"))
            break
        fdef = resolve_field(form, item.get("field"), f"{path}.field", hidden)
        ftype = types.of(fdef)
        if not ftype.sortable or ftype.storage != "column":
            raise FilterError(f"{path}.field", f"field {fdef.key!r} ({fdef.type}) cannot be sorted")
        keys.append(SortKey(fdef.key, ftype.sort_expression(table), direction == "desc"))
    if not keys or keys[-1].key != "id":
        last_desc = keys[-1].descending if keys else True
        keys.append(SortKey("id", table.c.id, last_desc))
    return keys


def order_by(keys: list[SortKey]) -> list[sa.ColumnElement]:
    return [k.expression.desc() if k.descending else k.expression.asc() for k in keys]


def after_clause(keys: list[SortKey], values: list[Any],
                 nulls_smallest: bool) -> tuple[sa.ColumnElement, sa.ColumnElement | None]:
    """Rows strictly after the row whose sort values are `values`, as two parts:
    (rows whose first sort key has a value, rows whose first key is empty) — the second
    is None when no such rows can follow. Keeping them apart lets the first part be an
    index range scan (`amount <= :v AND ...`) instead of an OR the planner cannot use."""
    if len(values) != len(keys):
        raise CursorError()
    first, first_value = keys[0], values[0]
    first_nulls_later = nulls_smallest == first.descending
    rest = _after(keys[1:], values[1:], nulls_smallest)
    col = first.expression
    if first_value is None:
        # Already among the empty values: only ties on the first key can follow.
        if first_nulls_later:
            return sa.and_(col.is_(None), rest), None
        return sa.or_(col.is_not(None), sa.and_(col.is_(None), rest)), None
    bound = col <= first_value if first.descending else col >= first_value
    beyond = col < first_value if first.descending else col > first_value
    main = sa.and_(bound, sa.or_(beyond, sa.and_(col == first_value, rest)))
    return main, (col.is_(None) if first_nulls_later else None)


def _after(keys: list[SortKey], values: list[Any], nulls_smallest: bool) -> sa.ColumnElement:
    alternatives = []
    equal_prefix: list[sa.ColumnElement] = []
    for key, value in zip(keys, values):
        col = key.expression
        nulls_later = nulls_smallest == key.descending
        if value is None:
            later = sa.false() if nulls_later else col.is_not(None)
            same = col.is_(None)
        else:
            beyond = col < value if key.descending else col > value
            later = sa.or_(beyond, col.is_(None)) if nulls_later else beyond
            same = col == value
        alternatives.append(sa.and_(*equal_prefix, later))
        equal_prefix.append(same)
    return sa.or_(*alternatives) if alternatives else sa.false()


class CursorError(FormworkError):
    def __init__(self):
        super().__init__("the page cursor is invalid or belongs to another sort order; "
                         "start again from the first page")


def encode_cursor(keys: list[SortKey], values: list[Any]) -> str:
    payload = {"k": [k.key + (":d" if k.descending else ":a") for k in keys],
               "v": [_encode_value(v) for v in values]}
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(keys: list[SortKey], cursor: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
        expected = [k.key + (":d" if k.descending else ":a") for k in keys]
        if payload["k"] != expected:
            raise CursorError()
        return [_decode_value(v) for v in payload["v"]]
    except CursorError:
        raise
    except Exception:
        raise CursorError() from None


def _encode_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"n": str(value)}
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, bool) or value is None or isinstance(value, (int, str, float)):
        return value
    return {"s": str(value)}


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        (tag, text), = value.items()
        if tag == "n":
            return Decimal(text)
        if tag == "t":
            return datetime.fromisoformat(text)
        if tag == "d":
            return date.fromisoformat(text)
        if tag == "s":
            return text
        raise CursorError()
    if isinstance(value, (dict, list)):
        raise CursorError()
    return value

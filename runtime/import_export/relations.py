"""Matching relation cells to records of the related form.

A cell names a related record by its title or by a unique field of the related
form (a phone, a contract number...), or the field a mapping names with `match:`.
Each text is read by that field's own parser first, so "138 1234 5678" finds the
customer stored as 13812345678. "#12" is a record id; so is a plain number that no
field matches. "王五 (13812345678)", as exports write a title several records
share, is matched by the unique value in brackets. One query per relation column
and batch, never one per row.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

import sqlalchemy as sa

from engine.definition.model import AppDef, FormDef
from engine.errors import FieldError
from engine.fields.base import ValueContext
from engine.fields.registry import FieldTypes
from engine.query.tables import AppTables

CHUNK = 2000   # texts per query
_ID = re.compile(r"^#?(\d{1,18})$")
_TITLE_WITH_KEY = re.compile(r"^(?P<title>.+?)\s*[（(]\s*(?P<key>[^()（）]+?)\s*[)）]$")
_SEPARATORS = str.maketrans({"，": ",", "；": ",", ";": ",", "、": ",", "|": ",", "\n": ","})


@dataclass
class Matches:
    found: dict[str, int] = field(default_factory=dict)   # text -> record id
    ambiguous: set[str] = field(default_factory=set)      # texts matching several records
    tried: list[tuple[str, str]] = field(default_factory=list)   # (zh, en) labels of the fields tried


def split_refs(raw, multiple: bool) -> list[str]:
    """The texts of a relation cell: one, or several between separators (、 , ; |)."""
    text = str(raw).strip()
    if isinstance(raw, float) and raw.is_integer():
        text = str(int(raw))
    if not multiple:
        return [text]
    return [t.strip() for t in text.translate(_SEPARATORS).split(",") if t.strip()]


def matchable_keys(form: FormDef, types: FieldTypes) -> list[str]:
    """The title field and the unique one-column fields of a form."""
    keys = [form.title_key()] if form.title_key() else []
    for fdef in form.fields:
        ftype = types.of(fdef)
        if fdef.key not in keys and (fdef.unique or ftype.always_unique) and len(ftype.columns()) == 1:
            keys.append(fdef.key)
    return keys


class RelationMatcher:
    def __init__(self, conn: sa.Connection, app: AppDef, tables: AppTables, ctx: ValueContext):
        self.conn, self.app, self.tables, self.ctx = conn, app, tables, ctx

    def match(self, target_key: str, texts: Iterable[str], match_key: str | None = None) -> Matches:
        target = self.app.require_form(target_key)
        table = self.tables.form_table(target.key)
        keys = [match_key] if match_key else matchable_keys(target, self.tables.types)
        result = Matches(tried=[(target.field(k).label.zh, target.field(k).label.en) for k in keys
                                if target.field(k) is not None])
        texts = sorted(set(texts))
        for start in range(0, len(texts), CHUNK):
            self._by_fields(target, table, keys, texts[start:start + CHUNK], result)
        unique_keys = [k for k in keys if k != target.title_key()]
        bracketed = {t: m.group("key") for t in texts if t not in result.found and t not in result.ambiguous
                     for m in [_TITLE_WITH_KEY.match(t)] if m}
        if bracketed and unique_keys:
            inner = Matches()
            self._by_fields(target, table, unique_keys, sorted(set(bracketed.values())), inner)
            for text, key in bracketed.items():
                if key in inner.found:
                    result.found[text] = inner.found[key]
        rest = [t for t in texts if t not in result.found and t not in result.ambiguous and _ID.match(t)]
        if rest and match_key is None:
            wanted = {int(_ID.match(t).group(1)): t for t in rest}
            for rid in self.conn.execute(sa.select(table.c.id).where(
                    table.c.id.in_(wanted), table.c.deleted_at.is_(None))).scalars():
                result.found[wanted[rid]] = rid
        return result

    def _by_fields(self, target: FormDef, table: sa.Table, keys: list[str], texts: list[str],
                   result: Matches) -> None:
        # {key: {stored value: [texts]}}: each text as the target field would store it.
        stored: dict[str, dict[object, list[str]]] = {}
        for key in keys:
            ftype = self.tables.types.of(target.field(key))
            values: dict[object, list[str]] = {}
            for text in texts:
                try:
                    value = ftype.to_row(ftype.parse_text(text, self.ctx))[ftype.column_name]
                except FieldError:
                    continue   # cannot be a value of this field
                values.setdefault(value, []).append(text)
            if values:
                stored[key] = values
        if not stored:
            return
        columns = {key: table.c[self.tables.types.of(target.field(key)).column_name] for key in stored}
        query = sa.select(table.c.id, *columns.values()).where(
            sa.or_(*[columns[key].in_(list(values)) for key, values in stored.items()]),
            table.c.deleted_at.is_(None))
        for row in self.conn.execute(query):
            for key, value in zip(columns, row[1:]):
                for text in stored[key].get(value, ()):
                    if result.found.get(text, row[0]) != row[0]:
                        result.ambiguous.add(text)
                    result.found[text] = row[0]
        for text in result.ambiguous:
            result.found.pop(text, None)

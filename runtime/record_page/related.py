"""The records that point at a record: one tab per relation field of any form of the app
that targets the record's form, with its count, and a page of each.

Counts for all tabs are one statement (a SELECT of one scalar subquery per tab), each
within the actor's row scope of that other form and without records in the recycle bin.
A tab is offered only when the actor may view the other form and see its relation field.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from engine.definition.model import FieldDef, FormDef
from engine.errors import CodedError, NotFound
from engine.fields.relation import RelationField
from engine.i18n import register_messages
from runtime.permissions import VIEW
from runtime.records.service import Records

register_messages({
    "related_tab_unknown": {
        "zh": "表单“{form}”的记录没有“{source}.{field}”这一关联记录标签页",
        "en": "Records of form '{form}' have no related-records tab '{source}.{field}'"},
})


class RelatedTabUnknown(CodedError, NotFound):
    """A tab that is not a relation into the form, or one the actor may not see."""


@dataclass(frozen=True)
class Tab:
    source: FormDef          # the form whose records point here
    field: FieldDef          # its relation field
    relation: RelationField

    def key(self) -> str:
        return f"{self.source.key}.{self.field.key}"

    def as_json(self, lang: str, count: int | None) -> dict[str, Any]:
        return {"key": self.key(), "form": self.source.key, "field": self.field.key,
                "label": f"{self.source.label.get(lang)} · {self.field.label.get(lang)}",
                "form_label": self.source.label.get(lang), "field_label": self.field.label.get(lang),
                "multiple": self.relation.multiple, "count": count}


def tabs(records: Records, form_key: str) -> list[Tab]:
    """The tabs the actor may see, in the order of the app's forms and fields."""
    app = records.app
    found = []
    for source in app.forms:
        access = records.access(source)
        if not access.can(VIEW):
            continue
        for fdef in source.fields:
            ftype = app.types.of(fdef)
            if isinstance(ftype, RelationField) and ftype.target == form_key and access.can_see(fdef.key):
                found.append(Tab(source, fdef, ftype))
    return found


def find_tab(records: Records, form_key: str, source_key: str, field_key: str) -> Tab:
    for tab in tabs(records, form_key):
        if tab.source.key == source_key and tab.field.key == field_key:
            return tab
    raise RelatedTabUnknown("related_tab_unknown", form=form_key, source=str(source_key)[:64],
                            field=str(field_key)[:64])


def pointing_count(records: Records, tab: Tab, record_id: int) -> sa.ScalarSelect:
    """How many live records of the tab's form, in the actor's scope, point at the record."""
    tables = records.app.tables
    source = tables.form_table(tab.source.key)
    access = records.access(tab.source)
    if tab.relation.multiple:
        link = tables.link_table(tab.source.key, tab.field.key)
        query = sa.select(sa.func.count()).select_from(link.join(source, source.c.id == link.c.source_id)) \
            .where(link.c.target_id == record_id)
    else:
        query = sa.select(sa.func.count()).select_from(source) \
            .where(source.c[tab.relation.column_name] == record_id)
    query = query.where(source.c.deleted_at.is_(None))
    if access.row_scope is not None:
        query = query.where(access.row_scope)
    return query.scalar_subquery()


def tab_counts(records: Records, form_key: str, record_id: int) -> list[dict[str, Any]]:
    """Every tab with its count, in one statement (none when there is no tab)."""
    found = tabs(records, form_key)
    lang = records.ctx.lang
    if not found:
        return []
    counts = records.conn.execute(sa.select(*[pointing_count(records, tab, record_id).label(f"c{i}")
                                              for i, tab in enumerate(found)])).one()
    return [tab.as_json(lang, int(count)) for tab, count in zip(found, counts)]

"""The inbox page's rows: a keyset page of the actor's tasks (Workflows.page) with each
record's title (its form's title field), read for the whole page in one statement.

    page = inbox_page(uow, "pending", cursor=None, limit=20)
    page["items"][0]["title"]       # "张三 转介绍 李四", or None (title hidden, record gone)

The titles are one UNION ALL of one SELECT per form on the page, each within the
actor's row scope of that form and only where the actor may see its title field, so
hidden fields never leave the server. `uow` is a unit of work (runtime/session.py):
its `records(app_key)` and `workflows`.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from runtime.permissions import VIEW


def inbox_page(uow, box: str, *, cursor: str | None = None, limit: int = 20) -> dict[str, Any]:
    page = uow.workflows.page(box, cursor=cursor, limit=limit)
    titles = record_titles(uow, [(r["app_key"], r["form_key"], r["record_id"]) for r in page["items"]])
    for row in page["items"]:
        row["title"] = titles.get((row["app_key"], row["form_key"], row["record_id"]))
    return page


def record_titles(uow, refs: list[tuple[str, str, int]]) -> dict[tuple[str, str, int], str]:
    """{(app, form, record id): title} of the records the actor may see the title of: one
    statement for all of them (none when there is nothing to read)."""
    wanted: dict[tuple[str, str], set[int]] = {}
    for app_key, form_key, record_id in refs:
        wanted.setdefault((app_key, form_key), set()).add(record_id)
    selects, types = [], {}
    for n, ((app_key, form_key), ids) in enumerate(sorted(wanted.items())):
        part = _title_select(uow, app_key, form_key, sorted(ids), n)
        if part is not None:
            selects.append(part[0])
            types[n] = (app_key, form_key, *part[1:])
    if not selects:
        return {}
    query = selects[0] if len(selects) == 1 else sa.union_all(*selects)
    out = {}
    for row in uow.conn.execute(query).all():
        app_key, form_key, ftype, column, ctx = types[row.part]
        out[(app_key, form_key, row.id)] = _shown(ftype, column, row.title, ctx)
    return out


def _title_select(uow, app_key: str, form_key: str, ids: list[int], n: int):
    """The SELECT of one form's titles, or None when the form is gone, has no title
    field stored in a column, or the actor may not view the form or see that field."""
    records = uow.records(app_key)
    form = records.app.form(form_key)
    if form is None:
        return None
    key = form.title_key()
    access = records.access(form)
    if key is None or not access.can(VIEW) or not access.can_see(key):
        return None
    ftype = records.app.types.of(form.field(key))
    columns = ftype.columns()
    if len(columns) != 1:
        return None
    table = records.app.tables.form_table(form_key)
    column = table.c[columns[0].name]
    query = sa.select(sa.literal(n).label("part"), table.c.id.label("id"),
                      sa.cast(column, sa.String).label("title")).where(
        table.c.id.in_(ids), table.c.deleted_at.is_(None))
    if access.row_scope is not None:
        query = query.where(access.row_scope)
    return query, ftype, columns[0].name, records.ctx


def _shown(ftype, column: str, raw: Any, ctx) -> str | None:
    if raw in (None, ""):
        return None
    try:
        text = ftype.display(ftype.from_row({column: raw}), ctx)
    except (TypeError, ValueError, AttributeError, KeyError, ArithmeticError):
        text = str(raw)
    return text or str(raw)

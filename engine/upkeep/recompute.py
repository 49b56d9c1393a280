"""Recomputing computed fields over every stored record, in batches: after an upgrade
(the plan's recompute steps, engine/schema_change) and on demand (`formwork recompute
APP`, e.g. every night for the fields that read the date: TODAY() formulas and rollups
filtered by "this month", which a write-time computation would otherwise leave as of
the day of the last write).
"""
from __future__ import annotations

from typing import Any, Callable

import sqlalchemy as sa

from engine.computed.env import evaluation_context
from engine.computed.graph import Node
from engine.computed.row_formulas import RowFormulas
from engine.fields.base import ValueContext
from engine.formula import EvalContext
from engine.upkeep.upkeep import Upkeep

BATCH = 2000
Progress = Callable[[str, int, int], None]     # (what, done, total)


def recompute(conn: sa.Connection, app, nodes: list[Node], ctx: ValueContext | None = None,
              progress: Progress | None = None, batch: int = BATCH) -> dict[str, int]:
    """Recompute `nodes` (in that order) for every record of their forms, in batches of
    records by id; returns {"form.field": records whose value changed}. `app` is compiled."""
    upkeep, tables = Upkeep(conn, app, ctx or ValueContext()), app.tables
    changed: dict[str, int] = {}
    for node in nodes:
        table = tables.form_table(node.form)
        total = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        done, last, count = 0, 0, 0
        while True:
            window = sa.select(table.c.id).where(table.c.id > last).order_by(table.c.id).limit(batch).subquery()
            high, size = conn.execute(sa.select(sa.func.max(window.c.id), sa.func.count())).one()
            if not size:
                break
            event = upkeep.recompute([node], sa.and_(table.c.id > last, table.c.id <= high))
            count += len(event.ids) if event is not None else 0
            done, last = done + size, high
            if progress:
                progress(f"recompute {node}", done, total)
        changed[str(node)] = count
    return changed


def recompute_subform(conn: sa.Connection, app, form_key: str, subform_key: str,
                      columns: list[str], ctx: ValueContext | None = None, progress: Progress | None = None,
                      batch: int = BATCH) -> dict[str, int]:
    """Recompute formula `columns` of a subform for every stored row, in batches (see
    engine/computed/row_formulas.py); returns, per column, the rows whose value changed."""
    ctx = ctx or ValueContext()
    subform = app.require_form(form_key).field(subform_key)
    return recompute_stored(conn, app.row_formulas(subform), app.tables.child_table(form_key, subform_key), columns, ctx,
                            evaluation_context(ctx), progress, f"recompute {form_key}.{subform_key}", batch)


def recompute_stored(conn: sa.Connection, formulas: RowFormulas, child: sa.Table, columns: list[str],
                     ctx: ValueContext, eval_ctx: EvalContext, progress: Progress | None = None,
                     what: str = "", batch: int = BATCH) -> dict[str, int]:
    """Recompute formula `columns` of every stored row of a subform, in batches of child
    rows by id: per batch one SELECT and one executemany of the rows whose values
    changed. Returns, per column, the number of rows whose value changed."""
    columns = [key for key in formulas.keys if key in columns]
    changed = dict.fromkeys(columns, 0)
    if not columns:
        return changed
    types = {k: t for k, t in formulas.types.items() if k in
             {r for f in formulas.formulas for r in f.reads} | set(columns)}
    selected = [child.c.id] + [child.c[col.name] for t in types.values() for col in t.columns()]
    written = [col.name for key in columns for col in types[key].columns()]
    update = child.update().where(child.c.id == sa.bindparam("_id")).values(
        {name: sa.bindparam(f"_v_{name}") for name in written})
    total = conn.execute(sa.select(sa.func.count()).select_from(child)).scalar_one()
    last, done = 0, 0
    while True:
        found = conn.execute(sa.select(*selected).where(child.c.id > last).order_by(child.c.id)
                             .limit(batch)).mappings().all()
        if not found:
            return changed
        rows = [{"_id": m["id"], **{k: t.from_row(m) for k, t in types.items()}} for m in found]
        old = [{k: row[k] for k in columns} for row in rows]
        formulas.compute(rows, ctx, eval_ctx, only=columns)
        params = []
        for row, before in zip(rows, old):
            moved = [k for k in columns if row[k] != before[k]]
            for key in moved:
                changed[key] += 1
            if moved:
                stored: dict[str, Any] = {}
                for key in columns:
                    stored.update(types[key].to_row(row[key]))
                params.append({"_id": row["_id"], **{f"_v_{n}": stored[n] for n in written}})
        if params:
            conn.execute(update, params)
        last, done = found[-1]["id"], done + len(found)
        if progress:
            progress(what, done, total)

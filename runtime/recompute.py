"""Recomputing the computed fields of an installed app on demand.

Formulas and rollups are kept current on every write; this recomputes them over all
records, in batches, in one transaction: after a repair of data written around the
engine, and every night for the fields that read the date (a formula calling TODAY(),
a rollup filtered by "this month" or by a formula such as `paid_on >= TODAY() - 30`),
whose stored values are otherwise as of the day
their record was last written. Run it from cron or a scheduler:

    formwork recompute crm_referral --volatile
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from engine.computed.graph import nodes_named, volatile_nodes
from engine.computed.row_formulas import columns_named, formula_columns
from engine.errors import FormworkError, NotFound
from engine.fields.base import ValueContext
from engine.upkeep.recompute import Progress, recompute, recompute_subform
from runtime.apps import load_installed


def recompute_app(engine: Engine, app_key: str, fields: list[str] | None = None, *, volatile: bool = False,
                  now: datetime | None = None, progress: Progress | None = None,
                  batch: int = 2000) -> dict[str, Any]:
    """Recompute `fields` ("form.field", or "form.subform.column" for a formula column of
    a subform; all computed fields when none) and what reads them, or with `volatile`
    the fields that read the date. Subform rows come first, then the fields reading
    them. Returns the fields recomputed and how many records' (rows') values changed."""
    with engine.begin() as conn:
        app = load_installed(conn, app_key)
        if app is None:
            raise NotFound(f"app {app_key!r} is not installed; run `formwork apply FILE` first")
        graph = app.graph
        rows: dict[tuple[str, str], list[str]] = {}
        if volatile:        # a subform's formula columns never read the date
            nodes = volatile_nodes(graph)
        elif not fields:
            rows, nodes = formula_columns(app), list(graph.order)
        else:
            try:
                rows, rest = columns_named(app, list(fields))
                start = set(nodes_named(graph, rest)) if rest else set()
            except KeyError as missing:
                known = [str(n) for n in graph.order] + [f"{form}.{sub}.{column}" for (form, sub), columns
                                                         in formula_columns(app).items() for column in columns]
                raise FormworkError(f"{missing.args[0]} is not a computed field of {app_key!r}; its computed "
                                    f"fields are: {', '.join(known) or 'none'}") from None
            start |= graph.readers_of(rows)     # the fields reading those columns (SUM(items.line_total))
            nodes = graph.dependents(start)
        ctx = ValueContext(now=now)
        changed: dict[str, int] = {}
        for (form, sub), columns in rows.items():
            counts = recompute_subform(conn, app, form, sub, columns, ctx, progress, batch)
            changed.update({f"{form}.{sub}.{column}": count for column, count in counts.items()})
        changed.update(recompute(conn, app, nodes, ctx, progress, batch))
    return {"app": app_key, "fields": [f"{form}.{sub}.{column}" for (form, sub), columns in rows.items()
                                       for column in columns] + [str(n) for n in nodes], "changed": changed}

"""Recomputing the computed fields of an installed app on demand.

Formulas and rollups are kept current on every write; this recomputes them over all
records, in batches, in one transaction: after a repair of data written around the
engine, and every night for the fields that read the date (a formula calling TODAY(),
a rollup filtered by "this month"), whose stored values are otherwise as of the day
their record was last written. Run it from cron or a scheduler:

    formwork recompute crm_referral --volatile
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from engine.computed.graph import graph_for
from engine.computed.migration import Progress, nodes_named, recompute, volatile_nodes
from engine.errors import FormworkError, NotFound
from engine.fields.base import ValueContext
from runtime.apps import load_installed
from runtime.records import tables_for


def recompute_app(engine: Engine, app_key: str, fields: list[str] | None = None, *, volatile: bool = False,
                  now: datetime | None = None, progress: Progress | None = None,
                  batch: int = 2000) -> dict[str, Any]:
    """Recompute `fields` ("form.field"; all computed fields when none) and what reads
    them, or with `volatile` the fields that read the date. Returns the fields
    recomputed and how many records' values changed."""
    with engine.begin() as conn:
        app = load_installed(conn, app_key)
        if app is None:
            raise NotFound(f"app {app_key!r} is not installed; run `formwork apply FILE` first")
        graph = graph_for(app)
        if volatile:
            nodes = volatile_nodes(graph)
        else:
            try:
                nodes = nodes_named(graph, list(fields or []))
            except KeyError as missing:
                known = ", ".join(str(n) for n in graph.order) or "none"
                raise FormworkError(f"{missing.args[0]} is not a computed field of {app_key!r}; its computed "
                                    f"fields are: {known}") from None
        changed = recompute(conn, app, tables_for(app), nodes, ValueContext(now=now), progress, batch)
    return {"app": app_key, "fields": [str(n) for n in nodes], "changed": changed}

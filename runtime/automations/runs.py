"""The run log read back, and runs run again.

    runs(conn, app_key, failed=False, automation=None, limit=50) -> [dict]   newest first
    run(conn, run_id) -> dict | None
    rerun(session, run_id) -> job id       the same inputs, enqueued again (rerun_of = run_id)

A rerun runs the automation as it is defined now, with the run's inputs (the triggering
record as it is now, the old values and payload of the original event), at depth 0.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from engine.errors import NotFound
from engine.storage import system
from runtime.automations.compiled import RUN_KIND

_r = system.automation_runs


def runs(conn: sa.Connection, app_key: str, *, failed: bool = False, automation: str | None = None,
         limit: int = 50) -> list[dict[str, Any]]:
    query = sa.select(_r).where(_r.c.app_key == app_key)
    if failed:
        query = query.where(_r.c.status.in_(["failed", "stopped"]))
    if automation:
        query = query.where(_r.c.automation_key == automation)
    return [dict(r) for r in conn.execute(query.order_by(_r.c.id.desc()).limit(limit)).mappings()]


def run(conn: sa.Connection, run_id: int) -> dict[str, Any] | None:
    found = conn.execute(sa.select(_r).where(_r.c.id == run_id)).mappings().first()
    return dict(found) if found else None


def rerun(session, run_id: int) -> int:
    def work(uow) -> int:
        found = run(uow.conn, run_id)
        if found is None:
            raise NotFound(f"there is no automation run #{run_id}; `formwork automations runs APP` lists them")
        inputs = {**(found["inputs"] or {}), "depth": 0, "chain": [], "rerun_of": run_id}
        return uow.enqueue(RUN_KIND, inputs)        # no key: each rerun is a run of its own
    return session.write(work)


def latest_rerun_query(run_id: int) -> sa.Select:
    return sa.select(_r).where(_r.c.rerun_of == run_id).order_by(_r.c.id.desc()).limit(1)

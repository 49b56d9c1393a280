"""The run log read back, and runs run again.

    runs(conn, app_key, failed=False, automation=None, limit=50) -> [dict]   newest first
    run_page(uow, app_key, automation=None, outcome=None, before=None) -> RunPage
                                           the admin run log: keyset pages, newest first
    run(conn, run_id) -> dict | None
    rerun(session, run_id) -> job id       the same inputs, enqueued again (rerun_of = run_id)

A rerun runs the automation as it is defined now, with the run's inputs (the triggering
record as it is now, the old values and payload of the original event), at depth 0.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from engine.errors import CodedError, NotFound
from engine.i18n import register_messages
from engine.storage import system
from runtime.automations.compiled import RUN_KIND, automations_for
from runtime.jobs.manage import require_admin

OUTCOMES = ("done", "skipped", "failed", "stopped")
PAGE_SIZE = 50

register_messages({
    "run_bad_outcome": {"zh": "没有“{outcome}”这种运行结果；可用的结果：{choices}",
                        "en": "There is no run outcome '{outcome}'; the outcomes are {choices}"},
})


class BadOutcome(CodedError):
    def __init__(self, outcome: str):
        super().__init__("run_bad_outcome", outcome=outcome, choices=", ".join(OUTCOMES))

_r = system.automation_runs


def runs(conn: sa.Connection, app_key: str, *, failed: bool = False, automation: str | None = None,
         limit: int = 50) -> list[dict[str, Any]]:
    query = sa.select(_r).where(_r.c.app_key == app_key)
    if failed:
        query = query.where(_r.c.status.in_(["failed", "stopped"]))
    if automation:
        query = query.where(_r.c.automation_key == automation)
    return [dict(r) for r in conn.execute(query.order_by(_r.c.id.desc()).limit(limit)).mappings()]


@dataclass(frozen=True)
class RunPage:
    runs: list[dict[str, Any]]      # each with `label`: the automation's label ({zh, en}) or None
    next_before: int | None         # `before` of the next (older) page; None: the last page
    automations: list[tuple[str, Any]]      # (key, label) of the app's automations, to filter by


def run_page(uow, app_key: str, *, automation: str | None = None, outcome: str | None = None,
             before: int | None = None, limit: int | None = None) -> RunPage:
    """One page of an installed app's run log for a workspace administrator: newest first,
    `limit` runs older than run id `before`, by automation key and outcome (status)."""
    require_admin(uow.actor)
    limit = limit or PAGE_SIZE
    if outcome and outcome not in OUTCOMES:
        raise BadOutcome(outcome)
    defined = automations_for(uow.app(app_key)).by_key        # AppNotInstalled (404) first
    query = (sa.select(_r.c.id, _r.c.automation_key, _r.c.trigger, _r.c.record_id, _r.c.status, _r.c.error,
                       _r.c.depth, _r.c.duration_ms, _r.c.job_id, _r.c.rerun_of, _r.c.created_at)
             .where(_r.c.app_key == app_key).order_by(_r.c.id.desc()).limit(limit + 1))
    if automation:
        query = query.where(_r.c.automation_key == automation)
    if outcome:
        query = query.where(_r.c.status == outcome)
    if before is not None:
        query = query.where(_r.c.id < before)
    found = [dict(r) for r in uow.conn.execute(query).mappings()]
    more = len(found) > limit
    found = found[:limit]
    for row in found:
        known = defined.get(row["automation_key"])
        row["label"] = known.label if known is not None else None
        row["form"] = known.form if known is not None else None
    return RunPage(found, found[-1]["id"] if more and found else None,
                   [(key, a.label) for key, a in sorted(defined.items())])


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

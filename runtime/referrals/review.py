"""The review queue: the `referrals.review` job, enqueued by the fraud listener
(runtime/referrals/fraud.py) in the transaction that created a flagged referral, starts
the programme's review workflow (`referrals.fraud.review`) on it, so the approvers get a
task in their inbox. The flagship's `referral_review` clears the referral when approved
(a set_fields step before its end) and its `fraud_review_rejected` automation blocks it
when rejected.

The job is keyed by the write's first flagged referral, and starts nothing for a referral when the referral is no longer
flagged (decided meanwhile, by hand) or already has a running instance of the workflow:
run twice, it makes one task."""
from __future__ import annotations

import sqlalchemy as sa

from engine.storage import system
from runtime import jobs
from runtime.referrals.compiled import FLAGGED, part_column as _col, programme_for
from runtime.referrals.fraud import REVIEW_KIND


def review_job(ctx, payload: dict) -> dict:
    """Start the review of each flagged referral of one write (`records`: their ids)."""
    started = [start_review(ctx.uow, payload["app"], payload["form"], rid) for rid in payload["records"]]
    return {"records": payload["records"], "started": [s["started"] for s in started]}


def start_review(uow, app_key: str, form_key: str, record_id: int) -> dict:
    app = uow.installed(app_key)
    programme = programme_for(app) if app is not None else None
    if programme is None or not programme.review_workflow or programme.referrals.form != form_key:
        return {"started": None, "why": "no review workflow"}
    table = app.tables.form_table(form_key)
    status = _col(app, programme.referrals, "fraud_status")
    i = system.workflow_instances
    row = uow.conn.execute(sa.select(status, sa.exists().where(
        i.c.app_key == app_key, i.c.form_key == form_key, i.c.record_id == record_id,
        i.c.workflow_key == programme.review_workflow, i.c.status == "running"))
        .where(table.c.id == record_id, table.c.deleted_at.is_(None))).first()
    if row is None or row[0] != FLAGGED:
        return {"started": None, "why": "not flagged"}
    if row[1]:
        return {"started": None, "why": "under review"}
    instance = uow.workflows.start(app_key, form_key, record_id, workflow=programme.review_workflow)
    return {"started": instance["id"], "status": instance["status"]}


jobs.register(REVIEW_KIND, review_job, max_attempts=5, backoff=10.0)

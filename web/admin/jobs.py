"""/admin/jobs: the background jobs (filter by status and kind, newest first, keyset
pages); a job's page (its full error, payload, attempts and the automation runs it
logged) with retry and discard; /admin/apps/<app>/runs: an app's automation run log.
Thin over runtime/jobs/manage.py and runtime/automations/runs.py."""
from __future__ import annotations

import json

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.errors import CodedError
from runtime.automations.runs import OUTCOMES, run_page
from runtime.jobs import STATUSES
from runtime.jobs.manage import JobNotFound, discard_job, job_detail, job_kinds, job_page, retry_job
from web.admin.blueprint import bp, coded
from web.context import admin_required, page_lang, runtime_session

ERROR_PREVIEW = 160         # characters of the last error's last line shown in the list


def _before() -> int | None:
    return request.args.get("before", type=int)


def error_line(error: str | None) -> str:
    """The last line of a traceback (what went wrong), shortened for a list row."""
    if not error:
        return ""
    line = error.strip().splitlines()[-1]
    return line if len(line) <= ERROR_PREVIEW else line[:ERROR_PREVIEW - 1] + "…"


@bp.get("/jobs")
@admin_required
def jobs():
    status, kind = request.args.get("status", ""), request.args.get("kind", "").strip()
    with runtime_session().read() as uow:
        page = job_page(uow, status=status or None, kind=kind or None, before=_before())
    return render_template("admin/jobs.html", page=page, statuses=STATUSES, kinds=job_kinds(),
                           status=status, kind=kind, error_line=error_line)


@bp.get("/jobs/<int:job_id>")
@admin_required
def job(job_id: int):
    return _job_page(job_id)


def _job_page(job_id: int, *, error: str | None = None, status: int = 200):
    with runtime_session().read() as uow:
        detail = job_detail(uow, job_id)
    payload = json.dumps(detail["job"].payload, ensure_ascii=False, indent=2, sort_keys=True, default=str)
    return render_template("admin/job.html", job=detail["job"], retryable=detail["retryable"],
                           runs=detail["runs"], payload=payload, error=error), status


@bp.post("/jobs/<int:job_id>/retry")
@admin_required
def retry(job_id: int):
    try:
        with runtime_session().write() as uow:
            retry_job(uow, job_id)
    except JobNotFound:
        raise
    except CodedError as exc:
        return _job_page(job_id, error=coded(exc), status=409)
    flash(_("Job #%(id)s was queued again.", id=job_id), "success")
    return redirect(url_for("admin.job", job_id=job_id))


@bp.post("/jobs/<int:job_id>/discard")
@admin_required
def discard(job_id: int):
    try:
        with runtime_session().write() as uow:
            discard_job(uow, job_id)
    except JobNotFound:
        raise
    except CodedError as exc:
        return _job_page(job_id, error=coded(exc), status=409)
    flash(_("Job #%(id)s was discarded.", id=job_id), "success")
    return redirect(url_for("admin.jobs"))


@bp.get("/apps/<app_key>/runs")
@admin_required
def automation_runs(app_key: str):
    automation, outcome = request.args.get("automation", "").strip(), request.args.get("outcome", "")
    with runtime_session().read() as uow:
        page = run_page(uow, app_key, automation=automation or None, outcome=outcome or None, before=_before())
        app = uow.app(app_key)
    lang = page_lang()
    return render_template("admin/automation_runs.html", page=page, app_key=app_key,
                           app_label=app.label.get(lang) or app_key, automation=automation, outcome=outcome,
                           outcomes=OUTCOMES, error_line=error_line, lang=lang)

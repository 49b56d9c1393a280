"""The task inbox, acting on a task from the record page, the notification list and
the top bar's counts.

GET /tasks?box=pending|done|started|cc (待办 / 已办 / 我发起的 / 抄送我的), keyset paged
(?cursor=), each row with its record's title and a link to its record page;
POST /apps/<app>/forms/<form>/records/<id>/tasks/<task>/<action> does one of the
workflow actions (runtime/workflow ACTIONS) from the record page's forms: `comment`,
`to` and `back` (return), `user` (a member picker's user id: transfer, add a signer,
reassign), `signature` (a file id), and the fields the node lets the approver edit;
then back to the record page with what happened. A refusal (a task handled already,
not yours, a required field empty, an unknown member) renders the record page again
with the message and everything typed. GET /notifications, POST /notifications/read
(`id`), POST /notifications/read-all. Thin over runtime/workflow and
runtime/notifications through runtime_session().
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.errors import CodedError, RecordValidationError
from runtime.forms.widgets import describe_form
from runtime.notifications import badge_counts, list_notifications, mark_all_read, mark_read
from runtime.permissions.errors import PermissionDenied
from runtime.workflow import ACTIONS
from runtime.workflow.errors import TaskConflict, WorkflowDenied, WorkflowRefused
from runtime.workflow.inbox import inbox_page
from web.context import current_actor, login_required, page_lang, runtime_session
from web.forms.posted import posted_values
from web.forms.widgets import issues_by_path
from web.inbox.labels import Labels
from web.records.views import render_record

bp = Blueprint("inbox", __name__)

BOXES = ("pending", "done", "started", "cc")
PAGE_SIZE = 20


def box_titles() -> dict[str, str]:
    return {"pending": _("To do"), "done": _("Handled"), "started": _("Started by me"), "cc": _("CC to me")}


@bp.get("/tasks")
@login_required
def tasks():
    box = request.args.get("box", "pending")
    if box not in BOXES:
        abort(404)
    with runtime_session().read() as uow:
        labels = Labels(uow, page_lang())
        found = inbox_page(uow, box, cursor=request.args.get("cursor") or None, limit=PAGE_SIZE)
        rows = [labels.task(row) for row in found["items"]]
    return render_template("inbox/tasks.html", box=box, boxes=box_titles(), rows=rows,
                           next_cursor=found["next_cursor"], paged=bool(request.args.get("cursor")))


def done_message(action: str, kind: str | None) -> str:
    if action == "approve":
        done = {"fill": _("Submitted."), "resubmit": _("Resubmitted: the flow goes on.")}
        return done.get(kind or "", _("Approved."))
    return {"reject": _("Rejected."), "return": _("Returned. It waits for the node you sent it back to."),
            "transfer": _("Transferred: the task is in the new handler's inbox."),
            "add_before": _("The signer was added: they sign before you, then the task comes back to you."),
            "add_after": _("The signer was added: they sign after you approve."),
            "reassign": _("Reassigned: the task is in the new handler's inbox."),
            "withdraw": _("Withdrawn. You can change the record and submit it again."),
            "urge": _("The approvers were reminded."), "end": _("The flow was ended.")}[action]


def posted_action(app_key: str, form_key: str) -> dict[str, Any]:
    """The keyword arguments of Workflows.act from the posted form, and the fields the
    node lets edit as `changes` (named by `_fields`; the runtime refuses any other)."""
    form = request.form
    again = form.get("back") != "1"
    signature = form.get("signature", "").strip()
    args: dict[str, Any] = {"comment": (form.get("comment") or "").strip()[:2000] or None,
                            "to": form.get("to") or None, "again": again,
                            "user": form.get("user", "").strip() or None,
                            "signature": int(signature) if signature.isdigit() and len(signature) < 19 else None}
    keys = [k for k in form.getlist("_fields") if k]
    if keys:
        with runtime_session().read() as uow:
            described = describe_form(uow, app_key, form_key, lang=page_lang())["fields"]
        fields = [{**f, "read_only": False} for f in described if f["key"] in keys]
        args["changes"] = posted_values({"fields": fields}, form) if fields else {}
    return args


@bp.post("/apps/<app_key>/forms/<form_key>/records/<int:record_id>/tasks/<int:task_id>/<action>")
@login_required
def act(app_key: str, form_key: str, record_id: int, task_id: int, action: str):
    if action not in ACTIONS:
        abort(404)
    args = posted_action(app_key, form_key)
    typed = {"task_id": task_id, "action": action, "comment": args["comment"], "to": args["to"],
             "back": not args["again"], "values": args.get("changes") or {}}
    back = url_for("records.record", app_key=app_key, form_key=form_key, record_id=record_id) + "#workflow"
    kind = request.form.get("kind")
    try:
        runtime_session().write(lambda uow: uow.workflows.act(task_id, action, **args))
    except RecordValidationError as invalid:        # an edited field the record refuses
        typed["issues"] = issues_by_path(invalid.issues, page_lang())
        flash(_("The record was not changed: see the messages beside the fields."), "error")
        return render_record(app_key, form_key, record_id, typed=typed, status=422)
    except TaskConflict as conflict:                # handled by someone else meanwhile, or over
        flash(conflict.message(page_lang()), "error")
        return render_record(app_key, form_key, record_id, typed=typed, status=409)
    except (WorkflowDenied, PermissionDenied) as denied:    # not yours, not an admin, self-approval
        flash(denied.message(page_lang()), "error")
        return render_record(app_key, form_key, record_id, typed=typed, status=403)
    except (WorkflowRefused, CodedError) as refused:   # a required field, no member chosen, unknown member
        flash(refused.message(page_lang()), "error")
        return render_record(app_key, form_key, record_id, typed=typed, status=422)
    flash(done_message(action, kind), "success")
    return redirect(back, 303)


@bp.get("/notifications")
@login_required
def notifications():
    with runtime_session().read() as uow:
        page = list_notifications(uow.conn, current_actor().user_id, limit=100)
    return render_template("inbox/notifications.html", page=page)


@bp.post("/notifications/read")
@login_required
def read_one():
    ids = [int(i) for i in request.form.getlist("id") if i.isdigit()]
    runtime_session().write(lambda uow: mark_read(uow.conn, current_actor().user_id, ids))
    return redirect(url_for("inbox.notifications"))


@bp.post("/notifications/read-all")
@login_required
def read_all():
    runtime_session().write(lambda uow: mark_all_read(uow.conn, current_actor().user_id))
    return redirect(url_for("inbox.notifications"))


def topbar_counts() -> dict[str, int]:
    """The signed-in user's pending tasks and unread notifications, for the top bar: one
    statement (runtime/notifications badge_counts)."""
    actor = current_actor()
    if actor is None or actor.user_id is None:
        return {"tasks": 0, "unread": 0}
    with runtime_session().read() as uow:
        return badge_counts(uow.conn, actor.user_id)

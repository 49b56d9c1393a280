"""The task inbox and the notification list.

GET /tasks?box=pending|done|started|cc (待办 / 已办 / 我发起的 / 抄送我的), each row linking
to its record page; POST /apps/<app>/forms/<form>/records/<id>/tasks/<task>/<action>
(approve or reject, with `comment`) acts from the record page and comes back to it with
what happened; GET /notifications, POST /notifications/read (`id`), POST
/notifications/read-all. Thin over runtime/workflow and runtime/notifications through
runtime_session(); the runtime's refusals (a task handled already, not yours) are shown
on the record page in the page language.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from runtime.workflow.errors import TaskConflict, WorkflowDenied, WorkflowRefused
from runtime.notifications import list_notifications, mark_all_read, mark_read, unread_count
from web.context import current_actor, login_required, page_lang, runtime_session
from web.inbox.labels import Labels

bp = Blueprint("inbox", __name__)

BOXES = ("pending", "done", "started", "cc")
PAGE_ACTIONS = ("approve", "reject")


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
        rows = [labels.task(row) for row in uow.workflows.tasks(box)]
    return render_template("inbox/tasks.html", box=box, boxes=box_titles(), rows=rows)


@bp.post("/apps/<app_key>/forms/<form_key>/records/<int:record_id>/tasks/<int:task_id>/<action>")
@login_required
def act(app_key: str, form_key: str, record_id: int, task_id: int, action: str):
    if action not in PAGE_ACTIONS:
        abort(404)
    comment = (request.form.get("comment") or "").strip()[:2000] or None
    back = url_for("records.record", app_key=app_key, form_key=form_key, record_id=record_id) + "#workflow"
    try:
        runtime_session().write(lambda uow: uow.workflows.act(task_id, action, comment=comment))
    except (TaskConflict, WorkflowDenied, WorkflowRefused) as refused:   # handled already, not yours...
        flash(refused.message(page_lang()), "error")
        return redirect(back)
    flash(_("Approved.") if action == "approve" else _("Rejected."), "success")
    return redirect(back)


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
    """The signed-in user's pending tasks and unread notifications, for the top bar."""
    actor = current_actor()
    if actor is None or actor.user_id is None:
        return {"tasks": 0, "unread": 0}
    with runtime_session().read() as uow:
        return {"tasks": uow.workflows.pending_count(), "unread": unread_count(uow.conn, actor.user_id)}

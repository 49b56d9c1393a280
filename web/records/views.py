"""The record page: GET /apps/<app>/forms/<form>/records/<id> shows every field the
user may see with display values, subform rows, the tabs of the records pointing at it
(?tab=<form>.<field> chooses one), the history and the comments. POST .../comments adds
a comment, POST .../delete moves the record to the recycle bin, POST .../buttons/<key>
presses a button automation (the buttons shown are those runtime/automations says the
user may press) and flashes how its run went. .../record.json,
.../related.json, .../history.json and .../comments.json are the same data for scripts.

Thin over runtime/record_page and runtime/comments, through runtime_session(): a
record outside the user's row scope answers 404, a missing action 403 (web/errors.py).
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import NotFound

from runtime.automations.triggers import button_label, buttons_for, press_button
from runtime.comments import Comments
from runtime.record_page import RecordPage
from runtime.records.bulk import BulkActions
from runtime.referrals.portal import StaffPanel, workspace_today
from web.context import login_required, page_lang, runtime_session
from web.inbox.panel import workflow_panel
from web.tables.params import parse_table_query
from web.tables.views import json_body

bp = Blueprint("records", __name__, url_prefix="/apps/<app_key>/forms/<form_key>/records/<int:record_id>")


@bp.get("")
@login_required
def record(app_key: str, form_key: str, record_id: int):
    return render_record(app_key, form_key, record_id)


def render_record(app_key: str, form_key: str, record_id: int, *, typed: dict[str, Any] | None = None,
                  status: int = 200):
    """The record page; `typed`: a refused workflow action's input, shown again in its form."""
    cursor = parse_table_query({"cursor": request.args.get("cursor", "")}).cursor
    with runtime_session().read() as uow:
        records = uow.records(app_key)
        page = RecordPage(records)
        shown = page.view(form_key, record_id)
        tab = chosen_tab(shown["tabs"], request.args.get("tab"))
        related = page.related(form_key, record_id, tab["form"], tab["field"], cursor=cursor) if tab else None
        history = page.history(form_key, record_id) if shown["can"]["history"] else None
        comments = Comments(records).list(form_key, record_id, limit=50)
        form = records.app.require_form(form_key)
        title_key = form.title_key()
        targets = {f.key: f.option("target") for f in form.fields if f.type == "relation"}
        workflow = workflow_panel(uow, app_key, form_key, record_id, page_lang(), typed)
        buttons = [(a.key, button_label(a).get(page_lang())) for a in buttons_for(uow, app_key, form_key, record_id)]
        panel = StaffPanel(uow, app_key)
        referrals = (panel.view(record_id, lang=page_lang(), on=workspace_today(uow), base_url=request.url_root)
                     if panel.applies(form_key) else None)
    return render_template("records/record.html", app_key=app_key, form_key=form_key, shown=shown,
                           record=shown["record"], tab=tab, related=related, history=history,
                           comments=comments, workflow=workflow, buttons=buttons, referrals=referrals,
                           title=record_title(shown, title_key), targets=targets), status


@bp.get("/record.json")
@login_required
def record_json(app_key: str, form_key: str, record_id: int):
    with runtime_session().read() as uow:
        return jsonify(RecordPage(uow.records(app_key)).view(form_key, record_id))


@bp.get("/related.json")
@login_required
def related_json(app_key: str, form_key: str, record_id: int):
    """One tab's records (?tab=<form>.<field>, default the first with records; ?cursor=)."""
    cursor = parse_table_query({"cursor": request.args.get("cursor", "")}).cursor
    with runtime_session().read() as uow:
        page = RecordPage(uow.records(app_key))
        tab = chosen_tab(page.view(form_key, record_id)["tabs"], request.args.get("tab"))
        if tab is None:
            raise NotFound()
        return jsonify(page.related(form_key, record_id, tab["form"], tab["field"], cursor=cursor))


@bp.get("/history.json")
@login_required
def history_json(app_key: str, form_key: str, record_id: int):
    with runtime_session().read() as uow:
        return jsonify({"history": RecordPage(uow.records(app_key)).history(form_key, record_id)})


@bp.get("/comments.json")
@login_required
def comments_json(app_key: str, form_key: str, record_id: int):
    cursor = parse_table_query({"cursor": request.args.get("cursor", "")}).cursor
    with runtime_session().read() as uow:
        return jsonify(Comments(uow.records(app_key)).list(form_key, record_id, cursor=cursor))


@bp.post("/comments")
@login_required
def add_comment(app_key: str, form_key: str, record_id: int):
    """A comment from the page's form (then back to the page) or from JSON."""
    body = request.form.get("body") if request.form else json_body().get("body")
    with runtime_session().write() as uow:
        comment = Comments(uow.records(app_key)).add(form_key, record_id, body if isinstance(body, str) else "")
    if request.form:
        return redirect(url_for("records.record", app_key=app_key, form_key=form_key, record_id=record_id)
                        + "#comments")
    return jsonify(comment), 201


@bp.post("/delete")
@login_required
def delete(app_key: str, form_key: str, record_id: int):
    """To the recycle bin, then to the table with a notice that says where it went."""
    with runtime_session().write() as uow:
        records = uow.records(app_key)
        records.get(form_key, record_id)          # outside the scope: 404 before 403
        BulkActions(records).delete(form_key, [record_id])
    if request.form:
        flash(_("Record #%(id)s was moved to the recycle bin. You can restore it from there.", id=record_id),
              "success")
        return redirect(url_for("tables.table", app_key=app_key, form_key=form_key))
    return jsonify({"deleted": 1})


@bp.post("/buttons/<button_key>")
@login_required
def press_button_page(app_key: str, form_key: str, record_id: int, button_key: str):
    """Press a button from the record page, then back to it with how the run went."""
    outcome = press_button(runtime_session(), app_key, form_key, button_key, record_id)
    label, run = outcome["label"][page_lang()], outcome["run"] or {}
    if run.get("status") == "done":
        flash(_("“%(button)s” ran.", button=label), "success")
    elif run.get("status") == "skipped":
        flash(_("“%(button)s” did not run: its condition does not hold for this record.", button=label), "warning")
    elif run.get("status") in ("failed", "stopped"):
        flash(_("“%(button)s” failed: %(error)s", button=label, error=run.get("error") or ""), "error")
    else:
        flash(_("“%(button)s” was queued; it runs in the background.", button=label), "success")
    return redirect(url_for("records.record", app_key=app_key, form_key=form_key, record_id=record_id))


def chosen_tab(tabs: list[dict[str, Any]], key: str | None) -> dict[str, Any] | None:
    """The tab named by ?tab=, else the first one with records, else the first."""
    if key:
        found = next((t for t in tabs if t["key"] == key), None)
        if found is None:
            raise NotFound()
        return found
    return next((t for t in tabs if t["count"]), tabs[0] if tabs else None)


def record_title(shown: dict[str, Any], title_key: str | None) -> str:
    """The record's title field when the user may see it, else its first field, else #id."""
    record, keys = shown["record"], [f["key"] for f in shown["fields"] if not f.get("columns")]
    key = title_key if title_key in keys else (keys[0] if keys else None)
    text = record["display"].get(key) if key else None
    return str(text) if text not in (None, "") else f"#{record['id']}"

"""The data table of a form, its saved views, bulk actions, export and recycle bin.

Pages: GET /apps/<app>/forms/<form> (the table) and .../trash (the recycle bin).
JSON for the page's script (web/static/js/table.js), thin over runtime/views and
runtime/records/bulk.py: .../table.json, .../views (create), .../views/<id> (update,
rename, default), .../views/<id>/delete, .../bulk/set, .../bulk/delete, .../restore.
.../export?format=xlsx|csv writes the current view (runtime/import_export/exporter.py).
Everything reads and writes through runtime_session(), so the user's row scope and
hidden fields hold everywhere; errors are rendered by web/errors.py.
"""
from __future__ import annotations

import tempfile
from io import BytesIO
from pathlib import Path
from typing import Any

from flask import Blueprint, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import NotFound

from runtime.api.requests import parse_json_body
from runtime.import_export.exporter import write_export
from runtime.permissions import CREATE, DELETE, EDIT, EXPORT, IMPORT
from runtime.records.bulk import BulkActions, can_set
from runtime.views import DataTable, SavedViews
from runtime.views.filters import filter_fields
from web.context import login_required, page_lang, runtime_session
from web.tables.params import TableQuery, parse_table_query

bp = Blueprint("tables", __name__, url_prefix="/apps/<app_key>/forms/<form_key>")

EXPORT_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "csv": "text/csv; charset=utf-8"}


@bp.get("")
@login_required
def table(app_key: str, form_key: str):
    query = parse_table_query(request.args)
    with runtime_session().read() as uow:
        records = uow.records(app_key)
        form = records.app.require_form(form_key)
        page = DataTable(records).page(form_key, count="always", **query.table_arguments())
        views = SavedViews(records).list(form_key) if uow.actor.user_id else []
        access = records.access(form)
        setup = {"filterFields": filter_fields(records, form_key),
                 "bulkFields": bulk_fields(records, form), "allColumns": all_columns(records, form),
                 "columns": [c["key"] for c in page["columns"]], "filter": page["filter"],
                 "sort": page["sort"], "view": page["view"], "views": views,
                 "pickers": {"member": url_for("forms.pick_members", app_key=app_key, form_key=form_key),
                             "department": url_for("forms.pick_departments", app_key=app_key, form_key=form_key)}}
        can = {"create": access.can(CREATE), "edit": access.can(EDIT), "delete": access.can(DELETE),
               "export": access.can(EXPORT), "import": access.can(IMPORT) and access.can(CREATE)}
    return render_template("tables/table.html", app_key=app_key, form_key=form_key, page=page,
                           query=query, setup=setup, can=can, title_key=form.title_key(),
                           links=page_links(app_key, form_key, query, page))


@bp.get("/table.json")
@login_required
def table_json(app_key: str, form_key: str):
    query = parse_table_query(request.args)
    with runtime_session().read() as uow:
        page = DataTable(uow.records(app_key)).page(form_key, count="always", **query.table_arguments())
    return jsonify(page)


@bp.post("/views")
@login_required
def create_view(app_key: str, form_key: str):
    body = json_body()
    with runtime_session().write() as uow:
        view = SavedViews(uow.records(app_key)).create(
            form_key, body.get("name"), filter=body.get("filter"), columns=body.get("columns"),
            sort=body.get("sort"), page_size=body.get("page_size"), default=bool(body.get("default")))
    return jsonify(view), 201


@bp.post("/views/<int:view_id>")
@login_required
def update_view(app_key: str, form_key: str, view_id: int):
    """Change what the body names: name, filter/columns/sort/page_size, default."""
    body = json_body()
    with runtime_session().write() as uow:
        views = SavedViews(uow.records(app_key))
        same_form(views.get(view_id), form_key)
        parts = {k: body[k] for k in ("filter", "columns", "sort", "page_size") if k in body}
        if parts:
            views.update(view_id, **parts)
        if "name" in body:
            views.rename(view_id, body["name"])
        if "default" in body:
            views.set_default(view_id, bool(body["default"]))
        view = views.get(view_id)
    return jsonify(view)


@bp.post("/views/<int:view_id>/delete")
@login_required
def delete_view(app_key: str, form_key: str, view_id: int):
    with runtime_session().write() as uow:
        views = SavedViews(uow.records(app_key))
        same_form(views.get(view_id), form_key)
        views.delete(view_id)
    return jsonify({"deleted": view_id})


@bp.post("/bulk/set")
@login_required
def bulk_set(app_key: str, form_key: str):
    body = json_body()
    with runtime_session().write() as uow:
        done = BulkActions(uow.records(app_key)).set_field(form_key, body.get("ids"), body.get("field"),
                                                           body.get("value"))
    return jsonify(done)


@bp.post("/bulk/delete")
@login_required
def bulk_delete(app_key: str, form_key: str):
    body = json_body()
    with runtime_session().write() as uow:
        done = BulkActions(uow.records(app_key)).delete(form_key, body.get("ids"))
    return jsonify(done)


@bp.get("/export")
@login_required
def export(app_key: str, form_key: str):
    """The current view (filter, columns, sort, search) as XLSX or CSV, every page of it."""
    fmt = request.args.get("format", "xlsx")
    if fmt not in EXPORT_TYPES:
        fmt = "xlsx"
    query = parse_table_query(request.args)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"export.{fmt}"
        with runtime_session().read() as uow:
            records = uow.records(app_key)
            shown = DataTable(records).page(form_key, count="none", **{**query.table_arguments(), "limit": 1,
                                                                     "cursor": None})
            write_export(records, form_key, path, fmt, filter=shown["filter"], sort=shown["sort"],
                         search=query.search, columns=[c["key"] for c in shown["columns"]])
            name = f"{shown['form']['label']}.{fmt}"
        data = path.read_bytes()
    response = send_file(BytesIO(data), mimetype=EXPORT_TYPES[fmt], as_attachment=True, download_name=name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/trash")
@login_required
def trash(app_key: str, form_key: str):
    cursor = parse_table_query({"cursor": request.args.get("cursor", "")}).cursor
    with runtime_session().read() as uow:
        records = uow.records(app_key)
        form = records.app.require_form(form_key)
        bin_page = BulkActions(records).recycle_bin(form_key, cursor=cursor, count=True)
        label = form.label.get(page_lang())
    return render_template("tables/trash.html", app_key=app_key, form_key=form_key, form_label=label,
                           bin=bin_page)


@bp.post("/restore")
@login_required
def restore(app_key: str, form_key: str):
    """Restore the chosen records: a form post of the trash page (ids=...) or JSON."""
    ids = request.form.getlist("ids") if request.form else json_body().get("ids")
    with runtime_session().write() as uow:
        done = BulkActions(uow.records(app_key)).restore(form_key, ids)
    if request.form:
        from_trash = request.form.get("back") != "record"
        flash_restored(done["restored"])
        if from_trash:
            return redirect(url_for("tables.trash", app_key=app_key, form_key=form_key))
        return redirect(url_for("records.record", app_key=app_key, form_key=form_key, record_id=int(ids[0])))
    return jsonify(done)


def flash_restored(count: int) -> None:
    flash(_("%(count)s record(s) restored.", count=count), "success")


# ---- helpers ---------------------------------------------------------------------------

def json_body() -> dict[str, Any]:
    body = parse_json_body(request.get_data())
    return body if isinstance(body, dict) else {}


def same_form(view: dict[str, Any], form_key: str) -> None:
    """A view of another form is not found here (as SavedViews says for others' views)."""
    if view["form"] != form_key:
        raise NotFound()


def bulk_fields(records, form) -> list[str]:
    """The fields this user may set on many records at once."""
    access = records.access(form)
    return [f.key for f in form.fields if access.can_see(f.key)
            and can_set(access, f.key, records.app.types.of(f)) and records.app.types.of(f).storage == "column"]


def all_columns(records, form) -> list[dict[str, str]]:
    """Every column the user may show: visible fields, then the system columns."""
    table = DataTable(records)
    access = records.access(form)
    keys = [f.key for f in form.fields if access.can_see(f.key)]
    keys += ["id", "created_at", "updated_at", "created_by", "updated_by"]
    return [{"key": c["key"], "label": c["label"]} for c in table.columns(form, keys)]


def page_links(app_key: str, form_key: str, query: TableQuery, page: dict[str, Any]) -> dict[str, str | None]:
    """Links of the next and previous pages and of the exports, keeping the view as shown."""
    keep = {k: v for k, v in request.args.items() if k not in ("cursor", "trail", "format")}
    here = {"app_key": app_key, "form_key": form_key}
    links: dict[str, str | None] = {"next": None, "previous": None}
    if page["next_cursor"]:
        links["next"] = url_for("tables.table", **here, **keep, cursor=page["next_cursor"],
                                trail=".".join(query.next_trail()))
    before = query.previous()
    if before is not None:
        cursor, trail = before
        extra = {k: v for k, v in (("cursor", cursor), ("trail", ".".join(trail))) if v}
        links["previous"] = url_for("tables.table", **here, **keep, **extra)
    for fmt in EXPORT_TYPES:
        links[fmt] = url_for("tables.export", **here, **keep, format=fmt)
    return links

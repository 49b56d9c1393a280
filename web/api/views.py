"""The REST API's record endpoints under /api/v1/apps/<app>/forms/<form>/records.

Each handler parses the request with runtime.api.requests, calls the record service of
a runtime Session acting as the caller (web/context.py runtime_session: the same service
and permission gate as the pages), and renders with runtime.api.responses. Errors are
raised, never rendered here: web/errors.py answers every one with
runtime.api.errors.error_response (the API's one error shape).

Authentication is web/auth's (a bearer key, or the session cookie with X-CSRF-Token on
requests that change data); web/api/limits.py counts each request against its key.
"""
from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, request, url_for

from engine.compiled.app import App
from engine.definition.model import FormDef
from runtime.api.requests import (etag, parse_create_body, parse_json_body, parse_list_query, parse_patch,
                                  parse_relation, require_form)
from runtime.api.errors import not_found
from runtime.api.responses import history_body, page_body, record_body, records_body
from runtime.automations.triggers import press_button
from runtime.permissions import VIEW
from runtime.referrals.channels import with_channel
from runtime.session import AppNotInstalled, UnitOfWork
from web.api.limits import check_rate_limit, rate_headers
from web.context import login_required, runtime_session

bp = Blueprint("api", __name__, url_prefix="/api/v1")
bp.before_request(check_rate_limit)
bp.after_request(rate_headers)

RECORDS = "/apps/<app_key>/forms/<form_key>/records"
# Ids the database can hold (BIGINT); any other number is a record that is not there.
RECORD = RECORDS + "/<int(max=9223372036854775807):record_id>"


def form_of(uow: UnitOfWork, app_key: str, form_key: str) -> tuple[App, FormDef]:
    """The installed app and form the URL names, or a 404 saying which part is missing."""
    try:
        app = uow.app(app_key)
    except AppNotInstalled:
        app = None
    return app, require_form(app, app_key, form_key)


def json_response(body: Any, status: int = 200) -> Response:
    """`body` as compact UTF-8 JSON, keys in the order the body gives them (cheaper than
    jsonify's sorted, escaped text on pages of hundreds of records)."""
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(text, status=status, mimetype="application/json")


def record_response(app: App, form_key: str, record: dict[str, Any], status: int = 200) -> Response:
    response = json_response(record_body(app, form_key, record), status)
    response.headers["ETag"] = etag(record)
    return response


def json_body() -> Any:
    """The body as JSON (reading it past MAX_CONTENT_LENGTH answers 413)."""
    return parse_json_body(request.get_data(cache=False))


@bp.get(RECORDS)
@login_required
def list_records(app_key: str, form_key: str):
    query = parse_list_query(request.args.to_dict(flat=False))
    with runtime_session().read() as uow:
        app, form = form_of(uow, app_key, form_key)
        page = uow.records(app_key).list(form.key, **query.list_arguments())
    return json_response(page_body(app, form.key, page))


@bp.post(RECORDS)
@login_required
def create_records(app_key: str, form_key: str):
    rows, many = parse_create_body(json_body())

    def create(uow: UnitOfWork):
        app, form = form_of(uow, app_key, form_key)
        records = uow.records(app_key)
        given = [with_channel(records, form.key, row, "api") for row in rows]
        return app, form, (records.bulk_create(form.key, given) if many else [records.create(form.key, given[0])])
    app, form, created = runtime_session().write(create)
    if many:
        return json_response(records_body(app, form.key, created), 201)
    response = record_response(app, form.key, created[0], 201)
    response.headers["Location"] = url_for("api.get_record", app_key=app.key, form_key=form.key,
                                           record_id=created[0]["id"])
    return response


@bp.get(RECORD)
@login_required
def get_record(app_key: str, form_key: str, record_id: int):
    with runtime_session().read() as uow:
        app, form = form_of(uow, app_key, form_key)
        record = uow.records(app_key).get(form.key, record_id)
    return record_response(app, form.key, record)


@bp.patch(RECORD)
@login_required
def update_record(app_key: str, form_key: str, record_id: int):
    changes, version = parse_patch(json_body(), request.headers.get("If-Match"))

    def update(uow: UnitOfWork):
        app, form = form_of(uow, app_key, form_key)
        return app, form, uow.records(app_key).update(form.key, record_id, changes, expected_version=version)
    app, form, record = runtime_session().write(update)
    return record_response(app, form.key, record)


@bp.delete(RECORD)
@login_required
def delete_record(app_key: str, form_key: str, record_id: int):
    def delete(uow: UnitOfWork):
        _app, form = form_of(uow, app_key, form_key)
        uow.records(app_key).delete(form.key, record_id)
    runtime_session().write(delete)
    return Response(status=204)


@bp.post(RECORD + "/restore")
@login_required
def restore_record(app_key: str, form_key: str, record_id: int):
    def restore(uow: UnitOfWork):
        app, form = form_of(uow, app_key, form_key)
        records = uow.records(app_key)
        records.restore(form.key, record_id)
        return app, form, records.get(form.key, record_id)
    app, form, record = runtime_session().write(restore)
    return record_response(app, form.key, record)


@bp.get(RECORD + "/history")
@login_required
def record_history(app_key: str, form_key: str, record_id: int):
    with runtime_session().read() as uow:
        _app, form = form_of(uow, app_key, form_key)
        records = uow.records(app_key)
        records.get(form.key, record_id, include_deleted=True)     # not the caller's to see: 404
        entries = records.history(form.key, record_id)
    return json_response(history_body(entries))


@bp.get(RECORD + "/related/<tab>")
@login_required
def related_records(app_key: str, form_key: str, record_id: int, tab: str):
    """The records of another form whose relation points at this record, as the caller
    may list them: the record itself must be the caller's to see (else 404), and the
    relation field too (else the tab is not there, as in the caller's document)."""
    query = parse_list_query(request.args.to_dict(flat=False))
    with runtime_session().read() as uow:
        app, form = form_of(uow, app_key, form_key)
        records = uow.records(app_key)
        source_key, pointing = parse_relation(app, form.key, tab, record_id)
        records.get(form.key, record_id)
        if not records.access(source_key, VIEW).can_see(pointing["field"]):
            raise not_found(f"form '{form.key}' has no related records '{tab[:100]}'")
        arguments = query.list_arguments()
        asked = [] if query.filter is None else query.filter if isinstance(query.filter, list) else [query.filter]
        arguments["filter"] = {"and": [pointing, *asked]}
        page = records.list(source_key, **arguments)
    return json_response(page_body(app, source_key, page))


@bp.post(RECORD + "/buttons/<button_key>")
@login_required
def press_record_button(app_key: str, form_key: str, record_id: int, button_key: str):
    """Press a button automation on a record (runtime/automations/triggers.py press_button:
    the caller must see the record and may edit the form's records): 202 with the job, its
    status and the run it logged (done already when jobs run inline)."""
    return json_response(press_button(runtime_session(), app_key, form_key, button_key, record_id), 202)

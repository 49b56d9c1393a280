"""The REST API's dashboards: GET /api/v1/apps/<app>/dashboards/<key> gives each widget's
data as JSON, computed for the caller (their row scope, their cache entries).

Thin over runtime/dashboards (`uow.dashboards`): the query string's parameters other
than `lang` and `widgets` are control values by control key (`period=2026-01-01..2026-03-31`,
`salesperson=7`); `widgets=a,b` picks widgets. An unknown dashboard answers 404, an
unknown control or a bad value 400 naming it (runtime.api.errors).

GET /api/v1/apps/<app>/dashboards/<key>/widgets/<widget>.xlsx gives one widget's data as a
spreadsheet, with the same control values and the same permission answer as the widget
(runtime/dashboards/export.py); a widget the caller may not see is 403.
"""
from __future__ import annotations

from flask import Blueprint, Response, request

from runtime.dashboards.export import XLSX_TYPE

from web.api.limits import check_rate_limit, rate_headers
from web.api.views import json_response
from web.context import login_required, runtime_session

bp = Blueprint("api_dashboards", __name__, url_prefix="/api/v1")
bp.before_request(check_rate_limit)
bp.after_request(rate_headers)

RESERVED = ("lang", "widgets")


@bp.get("/apps/<app_key>/dashboards/<key>")
@login_required
def get_dashboard(app_key: str, key: str):
    controls = {name: value for name, value in request.args.items() if name not in RESERVED}
    picked = request.args.get("widgets")
    with runtime_session().read() as uow:
        body = uow.dashboards(app_key).load(key, controls, picked.split(",") if picked else None)
    return json_response(body)


@bp.get("/apps/<app_key>/dashboards/<key>/widgets/<widget>.xlsx")
@login_required
def export_widget(app_key: str, key: str, widget: str):
    controls = {name: value for name, value in request.args.items() if name not in RESERVED}
    with runtime_session().read() as uow:
        name, body = uow.dashboards(app_key).export(key, widget, controls)
    return Response(body, mimetype=XLSX_TYPE, headers={"Content-Disposition": f'attachment; filename="{name}"'})

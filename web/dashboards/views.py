"""The dashboard page: GET /apps/<app>/dashboards/<key>, its controls in the query string
(a date range as <key>.from and <key>.to, the others by key). The widgets are computed by
runtime/dashboards for the signed-in user (their row scope, the widget cache); the page's
script (web/static/js/dashboard.js) draws them with ECharts, drills down to the data
table with each group's filter and exports a chart as PNG."""
from __future__ import annotations

from flask import Blueprint, render_template, request

from web.context import login_required, runtime_session

bp = Blueprint("dashboards", __name__, url_prefix="/apps/<app_key>/dashboards")


@bp.get("/<key>")
@login_required
def dashboard(app_key: str, key: str):
    with runtime_session().read() as uow:
        service = uow.dashboards(app_key)
        answer = service.load(key, control_values(service.dashboard(key), request.args))
        choices = service.choices(key)
    return render_template("dashboards/dashboard.html", app_key=app_key, answer=answer, choices=choices,
                           args=request.args)


def control_values(definition, args) -> dict:
    """The control values the query string gives: a date range from <key>.from and <key>.to."""
    values = {}
    for control in definition.controls:
        if control.kind == "date_range":
            start, end = args.get(f"{control.key}.from", ""), args.get(f"{control.key}.to", "")
            if start or end:
                values[control.key] = {"from": start or None, "to": end or None}
        elif args.get(control.key):
            values[control.key] = args[control.key]
    return values

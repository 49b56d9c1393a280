"""The dashboard page: GET /apps/<app>/dashboards/<key>, its controls in the query string
(a date range as <key>.from and <key>.to, the others by key). One runtime call
(runtime/dashboards `page`) computes the widgets for the signed-in user (their row scope,
the widget cache) and what each picker offers; the page's script
(web/static/js/dashboard.js) draws them with ECharts, drills down to the data table with
each group's filter and exports a chart as PNG; each widget links to its XLSX export
(the API's /widgets/<widget>.xlsx, with the same control values)."""
from __future__ import annotations

from flask import Blueprint, render_template, request

from web.context import login_required, runtime_session

bp = Blueprint("dashboards", __name__, url_prefix="/apps/<app_key>/dashboards")

RESERVED = ("lang",)


@bp.get("/<key>")
@login_required
def dashboard(app_key: str, key: str):
    controls = control_values(request.args)
    with runtime_session().read() as uow:
        answer = uow.dashboards(app_key).page(key, controls)
    return render_template("dashboards/dashboard.html", app_key=app_key, answer=answer, choices=answer["choices"],
                           args=request.args, export_args=api_values(controls))


def control_values(args) -> dict:
    """The control values the query string gives: a date range from <key>.from and <key>.to,
    the others by their key (empty ones left out)."""
    values: dict = {}
    for name, value in args.items():
        if name in RESERVED or not value:
            continue
        base, dot, end = name.rpartition(".")
        if dot and end in ("from", "to"):
            values.setdefault(base, {"from": None, "to": None})[end] = value
        else:
            values[name] = value
    return values


def api_values(controls: dict) -> dict:
    """The same values as the API's query string writes them (a range as FROM..TO)."""
    return {k: (f"{v['from'] or ''}..{v['to'] or ''}" if isinstance(v, dict) else v) for k, v in controls.items()}

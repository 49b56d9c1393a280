"""GET /healthz: 200 {"status": "ok"} when the database answers SELECT 1, else 503."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify
import sqlalchemy as sa

from web.context import db_engine

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    try:
        with db_engine().connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:         # any failure to reach the database is "not healthy"
        current_app.logger.warning("health check: the database did not answer: %s", exc)
        return jsonify({"status": "unavailable", "database": "unreachable"}), 503
    return jsonify({"status": "ok", "database": "ok"})

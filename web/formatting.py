"""Template filters for what the runtime gives as data: times (ISO, UTC) shown in the
workspace's time zone, as people read them."""
from __future__ import annotations

from datetime import datetime

from flask import Flask

from engine.workspace import workspace_timezone


def local_time(value) -> str:
    """"2026-12-07T01:04:18+00:00" -> "2026-12-07 09:04" (Asia/Shanghai)."""
    if not value:
        return ""
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(workspace_timezone())
    return moment.strftime("%Y-%m-%d %H:%M")


def init_formatting(app: Flask) -> None:
    app.jinja_env.filters["local_time"] = local_time

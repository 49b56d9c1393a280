"""The admin area's routes, one module per page family (each registers on `bp`):
users.py, departments.py, roles.py, keys.py (API keys), apps.py (permission sets),
jobs.py (background jobs and the automation run log)."""
from __future__ import annotations

from flask import redirect, url_for

from web.admin import apps, departments, jobs, keys, roles, users  # noqa: F401  (they register their routes)
from web.admin.blueprint import bp
from web.context import admin_required

__all__ = ["bp"]


@bp.get("")
@admin_required
def index():
    return redirect(url_for("admin.users"))

"""/admin/apps: the installed apps; an app's page: each form's permission sets as the
definition gives them (roles, actions, fields shown and editable, the row filter in
words) and who holds each role. Read-only: the builder will edit the sets."""
from __future__ import annotations

from flask import render_template

from runtime.apps import installed_apps
from runtime.permissions.overview import overview
from web.admin.blueprint import bp
from web.context import admin_required, page_lang, runtime_session


@bp.get("/apps")
@admin_required
def apps():
    lang = page_lang()
    with runtime_session().read() as uow:
        listed = [uow.app(row["key"]) for row in installed_apps(uow.conn)]
        cards = [{"key": app.key, "label": app.label.get(lang) or app.key, "forms": len(app.forms),
                  "sets": overview(app, lang)} for app in listed]
    return render_template("admin/apps.html", cards=cards)


@bp.get("/apps/<app_key>")
@admin_required
def app_permissions(app_key: str):
    lang = page_lang()
    with runtime_session().read() as uow:
        app = uow.app(app_key)
        sets = overview(app, lang)
        roles = {role.key: (role, count) for role, count in uow.org.roles.list()}
        holders = {key: uow.org.roles.members(key) for key in sorted(sets.role_keys) if key in roles}
    return render_template("admin/app.html", app=app, label=app.label.get(lang) or app.key, sets=sets,
                           roles=roles, holders=holders)

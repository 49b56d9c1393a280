"""/admin/api-keys: every user's API keys with their last use; revoking one."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from runtime.auth import ApiKeys
from web.admin.blueprint import bp
from web.context import admin_required, runtime_session


@bp.get("/api-keys")
@admin_required
def api_keys():
    with runtime_session().read() as uow:
        keys = ApiKeys(uow.conn).list()
        names = uow.org.users.names({k.user_id for k in keys})
    return render_template("admin/api_keys.html", keys=keys, names=names)


@bp.post("/api-keys/<int:key_id>/revoke")
@admin_required
def revoke_api_key(key_id: int):
    with runtime_session().write() as uow:
        key = ApiKeys(uow.conn).revoke(key_id)
    flash(_("The key “%(name)s” of %(account)s was revoked.", name=key.name, account=key.account), "success")
    return redirect(url_for("admin.api_keys"))
